/// One record header. A record's headers are an ordered list: keys may repeat and a value may
/// be absent (`nil`, which Kafka keeps apart from an empty value).
public struct KafkaHeader: Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is the UTF-8 bytes of `value`.
    public init(key: String, string value: String) {
        self.key = key
        self.value = Array(value.utf8)
    }

    public var description: String {
        guard let value else { return "\(key)=null" }
        return "\(key)=\(String(decoding: value, as: UTF8.self))"
    }
}

extension Array where Element == KafkaHeader {
    /// The value of the first header named `key` (`.some(nil)` when that header is null).
    public func first(named key: String) -> [UInt8]?? {
        first { $0.key == key }.map(\.value)
    }
}
