#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A topic's 16-byte unique id (Kafka's `topicId` UUID), random at creation.
public struct TopicID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: [UInt8]

    public init?(rawValue: [UInt8]) {
        guard rawValue.count == 16 else { return nil }
        self.rawValue = rawValue
    }

    /// A fresh random id (never all zeros, which Kafka reserves for "no id").
    static func random() -> TopicID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] |= 1
        return TopicID(unchecked: bytes)
    }

    private init(unchecked bytes: [UInt8]) { rawValue = bytes }

    public var description: String {
        rawValue.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// What the store knows about a topic: the persisted part of a Metadata response.
public struct TopicMetadata: Sendable, Equatable, Codable {
    public var name: String
    public var topicID: TopicID
    public var partitionCount: Int
    /// The configs set explicitly (at creation or by AlterConfigs); defaults are not listed.
    public var configs: [String: String]
}
