/// How a ``KafkaConsumer`` joins a group, where it starts and what it commits.
public struct KafkaConsumerConfiguration: Sendable, CustomStringConvertible {
    /// Where to start a partition that has no committed offset (`auto.offset.reset`).
    public enum OffsetReset: String, Sendable {
        case earliest, latest
        /// Fail instead of guessing.
        case error
    }

    /// Which records a consumer sees on topics written by transactional producers.
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "read_committed"
        case readUncommitted = "read_uncommitted"
    }

    public var client: KafkaClientConfiguration
    /// The consumer group (`group.id`). Needed for `subscribe` and for commits; a consumer with
    /// manual assignment and no commits may leave it `nil`.
    public var groupID: GroupID?
    /// Commit consumed positions in the background (`enable.auto.commit`). Default `false`:
    /// Switchback commits explicitly what it has processed.
    public var autoCommit: Bool
    /// Default `.earliest`.
    public var offsetReset: OffsetReset
    /// Default `.readCommitted`.
    public var isolationLevel: IsolationLevel
    /// How long the group waits for a silent member before rebalancing
    /// (`session.timeout.ms`). Default 45 s.
    public var sessionTimeout: Duration
    /// How often the consumer tells the group coordinator it is alive
    /// (`heartbeat.interval.ms`). Default 3 s.
    public var heartbeatInterval: Duration
    /// The longest a broker holds a fetch waiting for data (`fetch.wait.max.ms`). Default 100 ms.
    public var fetchMaxWait: Duration
    /// The most records one call into librdkafka hands over, bounding memory per batch.
    /// Default 1 000.
    public var maxRecordsPerPoll: Int

    public init(
        client: KafkaClientConfiguration,
        groupID: GroupID? = nil,
        autoCommit: Bool = false,
        offsetReset: OffsetReset = .earliest,
        isolationLevel: IsolationLevel = .readCommitted,
        sessionTimeout: Duration = .seconds(45),
        heartbeatInterval: Duration = .seconds(3),
        fetchMaxWait: Duration = .milliseconds(100),
        maxRecordsPerPoll: Int = 1_000
    ) {
        self.client = client
        self.groupID = groupID
        self.autoCommit = autoCommit
        self.offsetReset = offsetReset
        self.isolationLevel = isolationLevel
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.fetchMaxWait = fetchMaxWait
        self.maxRecordsPerPoll = maxRecordsPerPoll
    }

    /// A consumer for `bootstrapServers`, in `groupID` if given, other settings at defaults.
    public init(bootstrapServers: [String], groupID: GroupID? = nil) {
        self.init(client: KafkaClientConfiguration(bootstrapServers: bootstrapServers), groupID: groupID)
    }

    /// The librdkafka properties these settings stand for, raw properties last.
    public var librdkafkaProperties: [String: String] {
        var result = client.typedProperties
        if let groupID { result["group.id"] = groupID.rawValue }
        result["enable.auto.commit"] = autoCommit ? "true" : "false"
        // Offsets are stored only by explicit commits, never behind the application's back.
        result["enable.auto.offset.store"] = autoCommit ? "true" : "false"
        result["auto.offset.reset"] = offsetReset.rawValue
        result["isolation.level"] = isolationLevel.rawValue
        result["session.timeout.ms"] = String(sessionTimeout.wholeMilliseconds)
        result["heartbeat.interval.ms"] = String(heartbeatInterval.wholeMilliseconds)
        result["fetch.wait.max.ms"] = String(fetchMaxWait.wholeMilliseconds)
        return result.merging(client.properties) { $1 }
    }

    public var description: String {
        "KafkaConsumerConfiguration(\(KafkaConfigurationRedaction.describe(librdkafkaProperties)))"
    }
}
