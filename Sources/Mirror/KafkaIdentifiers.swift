/// The name of a Kafka topic: 1–249 characters of `a-z A-Z 0-9 . _ -`, not `.` or `..`
/// (Kafka's own rule), so it never contains `/` or spaces, which the mirror's encodings rely on.
public struct TopicName: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// The longest topic name Kafka accepts.
    public static let maxLength = 249

    /// A topic name, or `nil` when `rawValue` is not a legal Kafka topic name.
    public init?(rawValue: String) {
        guard Self.problem(with: rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// A name built by the mirror itself from validated parts, known to be legal.
    init(uncheckedRawValue: String) {
        self.rawValue = uncheckedRawValue
    }

    /// A topic name, or an error naming the bad value and what is wrong with it.
    public init(validating name: String) throws(MirrorError) {
        if let problem = Self.problem(with: name) {
            throw MirrorError(.invalidIdentifier, "invalid topic name \"\(name)\": \(problem)")
        }
        self.rawValue = name
    }

    static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "it is empty" }
        if bytes.count > maxLength { return "it is \(bytes.count) bytes long; Kafka's limit is \(maxLength)" }
        if name == "." || name == ".." { return "'.' and '..' are not allowed as topic names" }
        for byte in bytes {
            let allowed = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            if !allowed { return "only a-z, A-Z, 0-9, '.', '_' and '-' are allowed" }
        }
        return nil
    }

    /// Whether Kafka or Switchback owns this topic (`__consumer_offsets`, `__switchback_state`…);
    /// such topics are never mirrored.
    public var isInternal: Bool { rawValue.hasPrefix("__") }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        do {
            try self.init(validating: name)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: TopicName, rhs: TopicName) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// A partition number within a topic; never negative.
public struct PartitionID: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible, ExpressibleByIntegerLiteral
{
    public let rawValue: Int32

    /// A partition ID, or `nil` for a negative number (Kafka uses -1 for "unassigned").
    public init?(rawValue: Int32) {
        guard rawValue >= 0 else { return nil }
        self.rawValue = rawValue
    }

    /// For literals written in code; a negative literal is a programming error, not input data.
    public init(integerLiteral value: Int32) {
        precondition(value >= 0, "partition literal \(value) is negative")
        self.rawValue = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(Int32.self)
        guard let partition = PartitionID(rawValue: value) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "partition \(value) is negative")
        }
        self = partition
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: PartitionID, rhs: PartitionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// One partition of one topic, on whichever cluster the context says.
public struct TopicPartition: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var topic: TopicName
    public var partition: PartitionID

    public init(_ topic: TopicName, _ partition: PartitionID) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    /// `topic/partition`, as operators read it in reports.
    public var description: String { "\(topic)/\(partition)" }
}

/// A position in a partition's log. Committed offsets name the *next* record to read, as in Kafka.
///
/// Any `Int64` can be held (Kafka uses negative sentinels such as -1 for "none"); the functions
/// that take offsets from outside reject negative ones with an error rather than trapping.
public struct Offset: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible, ExpressibleByIntegerLiteral
{
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }
    public init(integerLiteral value: Int64) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: Offset, rhs: Offset) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// The ID of a Kafka consumer group; any non-empty string.
public struct ConsumerGroupID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// A group ID, or `nil` for the empty string.
    public init?(rawValue: String) {
        guard !rawValue.isEmpty else { return nil }
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(String.self)
        guard let group = ConsumerGroupID(rawValue: value) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "group ID is empty")
        }
        self = group
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Whether Kafka or Switchback owns this group (`__switchback-…`); never translated.
    public var isInternal: Bool { rawValue.hasPrefix("__") }

    public static func < (lhs: ConsumerGroupID, rhs: ConsumerGroupID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}
