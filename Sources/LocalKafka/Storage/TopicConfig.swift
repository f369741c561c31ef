/// The topic configs LocalKafka knows, with Kafka's defaults and validation.
///
/// Only these keys are accepted; anything else is rejected naming the key, so a typo in a
/// runbook fails loudly instead of being ignored.
public enum TopicConfigKey {
    public static let retentionMs = "retention.ms"
    public static let retentionBytes = "retention.bytes"
    public static let cleanupPolicy = "cleanup.policy"
    public static let minInsyncReplicas = "min.insync.replicas"
    public static let maxMessageBytes = "max.message.bytes"
    public static let segmentBytes = "segment.bytes"
    public static let messageTimestampType = "message.timestamp.type"
    public static let deleteRetentionMs = "delete.retention.ms"

    /// Every known key, in the order `effectiveConfigs` lists them.
    public static let all = [
        cleanupPolicy, deleteRetentionMs, maxMessageBytes, messageTimestampType, minInsyncReplicas,
        retentionBytes, retentionMs, segmentBytes,
    ]
}

/// One config of a topic as DescribeConfigs reports it.
public struct TopicConfigEntry: Sendable, Equatable {
    public var name: String
    public var value: String?
    /// True when no dynamic value is set and the default applies.
    public var isDefault: Bool
    public var isSensitive: Bool
    public var readOnly: Bool
}

/// One change of an IncrementalAlterConfigs request.
public struct ConfigOperation: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case set(String)
        case delete
        /// Adds list elements (only for list configs such as `cleanup.policy`).
        case append(String)
        /// Removes list elements (only for list configs).
        case subtract(String)
    }

    public var key: String
    public var kind: Kind

    public init(key: String, _ kind: Kind) {
        self.key = key
        self.kind = kind
    }
}

/// The parsed, effective configs of one topic, as the partition logs use them.
struct TopicSettings: Equatable {
    var retentionMs: Int64 = 604_800_000
    var retentionBytes: Int64 = -1
    var cleanupPolicy: [String] = ["delete"]
    var minInsyncReplicas: Int = 1
    var maxMessageBytes: Int = 1_048_588
    var segmentBytes: Int
    var logAppendTime = false
    /// How long a tombstone stays in a compacted topic, measured from its timestamp.
    var deleteRetentionMs: Int64 = 86_400_000

    /// Whether the log cleaner compacts the topic (`cleanup.policy` includes `compact`).
    var compacts: Bool { cleanupPolicy.contains("compact") }

    /// Defaults, with the broker's segment size (capped at 2 GiB: index positions are 32-bit).
    init(brokerSegmentBytes: Int) {
        segmentBytes = min(max(brokerSegmentBytes, 14), Int(Int32.max))
    }

    /// Validates `configs` and applies them over the defaults.
    init(configs: [String: String], brokerSegmentBytes: Int) throws(StorageError) {
        self.init(brokerSegmentBytes: brokerSegmentBytes)
        for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
            try apply(key: key, value: value)
        }
    }

    /// The value of `key` as a string, for DescribeConfigs.
    func value(of key: String) -> String? {
        switch key {
        case TopicConfigKey.retentionMs: String(retentionMs)
        case TopicConfigKey.retentionBytes: String(retentionBytes)
        case TopicConfigKey.cleanupPolicy: cleanupPolicy.joined(separator: ",")
        case TopicConfigKey.minInsyncReplicas: String(minInsyncReplicas)
        case TopicConfigKey.maxMessageBytes: String(maxMessageBytes)
        case TopicConfigKey.segmentBytes: String(segmentBytes)
        case TopicConfigKey.messageTimestampType: logAppendTime ? "LogAppendTime" : "CreateTime"
        case TopicConfigKey.deleteRetentionMs: String(deleteRetentionMs)
        default: nil
        }
    }

    static func isList(_ key: String) -> Bool { key == TopicConfigKey.cleanupPolicy }

    static func checkKnown(_ key: String, value: String?) throws(StorageError) {
        guard TopicConfigKey.all.contains(key) else {
            throw StorageError(
                .invalidConfig(key: key, value: value, reason: "unknown config"),
                "unknown topic config '\(key)'; LocalKafka supports \(TopicConfigKey.all.joined(separator: ", "))"
            )
        }
    }

    private mutating func apply(key: String, value: String) throws(StorageError) {
        try Self.checkKnown(key, value: value)
        switch key {
        case TopicConfigKey.retentionMs:
            retentionMs = try Self.integer(key, value, minimum: -1)
        case TopicConfigKey.deleteRetentionMs:
            deleteRetentionMs = try Self.integer(key, value, minimum: 0)
        case TopicConfigKey.retentionBytes:
            retentionBytes = try Self.integer(key, value, minimum: -1)
        case TopicConfigKey.minInsyncReplicas:
            minInsyncReplicas = Int(try Self.integer(key, value, minimum: 1, maximum: Int64(Int32.max)))
        case TopicConfigKey.maxMessageBytes:
            maxMessageBytes = Int(try Self.integer(key, value, minimum: 0, maximum: Int64(Int32.max)))
        case TopicConfigKey.segmentBytes:
            // Kafka's minimum (a v0 record overhead); a segment always takes at least one batch.
            segmentBytes = Int(try Self.integer(key, value, minimum: 14, maximum: Int64(Int32.max)))
        case TopicConfigKey.messageTimestampType:
            switch value {
            case "CreateTime": logAppendTime = false
            case "LogAppendTime": logAppendTime = true
            default: throw Self.invalid(key, value, "must be CreateTime or LogAppendTime")
            }
        case TopicConfigKey.cleanupPolicy:
            let policies = value.split(separator: ",").map { $0.trimmingSpaces() }
            guard !policies.isEmpty, policies.allSatisfy({ $0 == "delete" || $0 == "compact" }) else {
                throw Self.invalid(key, value, "must be a comma-separated list of delete and compact")
            }
            cleanupPolicy = policies
        default:
            break
        }
    }

    private static func integer(_ key: String, _ value: String, minimum: Int64, maximum: Int64 = .max) throws(StorageError) -> Int64 {
        guard let number = Int64(value.trimmingSpaces()) else {
            throw invalid(key, value, "must be an integer")
        }
        guard number >= minimum, number <= maximum else {
            throw invalid(key, value, "must be between \(minimum) and \(maximum)")
        }
        return number
    }

    static func invalid(_ key: String, _ value: String?, _ reason: String) -> StorageError {
        StorageError(
            .invalidConfig(key: key, value: value, reason: reason),
            "invalid value '\(value ?? "null")' for topic config '\(key)': \(reason)"
        )
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
