/// One Kafka record header: a UTF-8 key and an optional byte value. Keys may repeat.
///
/// - Note: KafkaClient has its own record type; the Flow converts at the boundary so this core
///   stays free of Kafka I/O.
public struct RecordHeader: Hashable, Sendable {
    public var key: String
    /// `nil` is Kafka's null header value, distinct from an empty one.
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}
