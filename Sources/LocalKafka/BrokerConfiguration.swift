import Foundation

/// When the broker forces appended data to stable storage.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Every append is fsynced before it is acknowledged: nothing acknowledged with `acks=all`
    /// is lost on `kill -9` or power loss.
    case always
    /// Appends are fsynced at most `BrokerConfiguration.fsyncInterval` apart: a crash of the
    /// machine (not only of the process) can lose that window.
    case interval
}

/// How a LocalKafka broker runs. Every field has a documented default.
public struct BrokerConfiguration: Sendable {
    /// Directory holding topics, partitions, group offsets and metadata.
    public var dataDirectory: URL
    /// Host the broker binds to and advertises to clients.
    public var host: String
    /// Port to bind; 0 picks a free port (the bound port is reported once listening).
    public var port: Int
    /// Partition count for topics created automatically or without an explicit count.
    public var defaultPartitions: Int
    /// Whether producing to or fetching metadata for an unknown topic creates it.
    public var autoCreateTopics: Bool
    /// When appended data reaches stable storage.
    public var fsync: FsyncPolicy
    /// Longest time between fsyncs under `FsyncPolicy.interval`.
    public var fsyncInterval: Duration
    /// Largest request frame accepted; a larger one closes the connection.
    public var maxRequestBytes: Int
    /// Size at which a partition's active segment is rolled.
    public var segmentBytes: Int
    /// How often retention (time and size) is enforced.
    public var retentionCheckInterval: Duration
    /// How often the log cleaner compacts the partitions of compacted topics (`cleanup.policy`
    /// including `compact`) that changed since their last cleaning.
    public var compactionInterval: Duration
    /// The port given to clients in metadata instead of the bound one, for a broker that
    /// clients reach through a proxy on `host` (the benchmarks' simulated WAN link); `nil`
    /// advertises the bound port.
    public var advertisedPort: Int? = nil

    public init(
        dataDirectory: URL,
        host: String = "127.0.0.1",
        port: Int = 9092,
        defaultPartitions: Int = 1,
        autoCreateTopics: Bool = true,
        fsync: FsyncPolicy = .always,
        fsyncInterval: Duration = .milliseconds(200),
        maxRequestBytes: Int = 100 * 1024 * 1024,
        segmentBytes: Int = 64 * 1024 * 1024,
        retentionCheckInterval: Duration = .seconds(30),
        compactionInterval: Duration = .seconds(15)
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.defaultPartitions = defaultPartitions
        self.autoCreateTopics = autoCreateTopics
        self.fsync = fsync
        self.fsyncInterval = fsyncInterval
        self.maxRequestBytes = maxRequestBytes
        self.segmentBytes = segmentBytes
        self.retentionCheckInterval = retentionCheckInterval
        self.compactionInterval = compactionInterval
    }
}
