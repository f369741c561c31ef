/// A record timestamp: milliseconds since the Unix epoch, as Kafka stores it.
public struct KafkaTimestamp: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// A timestamp from milliseconds since the Unix epoch.
    public init(milliseconds: Int64) { self.rawValue = milliseconds }

    public var milliseconds: Int64 { rawValue }

    public var description: String { "\(rawValue)ms" }

    public static func < (lhs: KafkaTimestamp, rhs: KafkaTimestamp) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who set a consumed record's timestamp.
public enum KafkaTimestampType: Sendable, Hashable {
    /// The producer set it (topic `message.timestamp.type=CreateTime`).
    case createTime
    /// The broker set it when it appended the record (`LogAppendTime`).
    case logAppendTime
}
