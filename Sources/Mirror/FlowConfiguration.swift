import KafkaClient
import Sites

/// One side of a flow: a site and how to reach its Kafka cluster.
public struct FlowEndpoint: Sendable {
    /// The site.
    public var site: SiteID
    /// `host:port` of one or more brokers of the site's cluster.
    public var bootstrapServers: [String]
    /// Raw librdkafka properties for every client of this cluster (security settings and the
    /// like); they override the flow's own settings, except the producer guarantees the mirror
    /// rests on (idempotence, `acks=all`, ordering; see
    /// ``FlowConfiguration/enforcedProducerProperties``). Secrets are masked when printed.
    public var properties: [String: String]

    public init(site: SiteID, bootstrapServers: [String], properties: [String: String] = [:]) {
        self.site = site
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }

    /// The client settings for this cluster, under `clientID`.
    func clientConfiguration(clientID: String) -> KafkaClientConfiguration {
        KafkaClientConfiguration(bootstrapServers: bootstrapServers, clientID: clientID, properties: properties)
    }
}

/// How a flow batches records on the link between the sites. The defaults suit a link with
/// tens of milliseconds of latency: large compressed batches, a short linger, several batches
/// in flight so the link is not idle while an acknowledgement travels back.
public struct FlowBatching: Sendable {
    /// Batch compression of the target producer.
    public var compression: KafkaProducerConfiguration.Compression
    /// How long the producer waits for more records before sending a batch (`linger.ms`).
    public var linger: Duration
    /// The largest producer batch in bytes (`batch.size`).
    public var batchBytes: Int
    /// The most records in one send. Sends go out one at a time (order per partition is what
    /// exactly-once resume rests on); while one waits for its acknowledgement, the next batch
    /// grows with whatever arrives, up to this many records.
    public var maxBatchRecords: Int
    /// The most records read from the source and not yet handed to the producer.
    public var maxBufferedRecords: Int

    public init(
        compression: KafkaProducerConfiguration.Compression = .lz4,
        linger: Duration = .milliseconds(20),
        batchBytes: Int = 1_048_576,
        maxBatchRecords: Int = 20_000,
        maxBufferedRecords: Int = 40_000
    ) {
        self.compression = compression
        self.linger = linger
        self.batchBytes = batchBytes
        self.maxBatchRecords = maxBatchRecords
        self.maxBufferedRecords = maxBufferedRecords
    }
}

/// Everything a ``Flow`` needs: the two clusters, what to copy and how to name it, how to use
/// the link, and where to keep the offset map.
public struct FlowConfiguration: Sendable {
    /// The cluster copied from.
    public var source: FlowEndpoint
    /// The cluster copied to (the agent running the flow is at this site).
    public var target: FlowEndpoint
    /// How source topics are named at the target.
    public var naming: TopicNaming
    /// Which source topics are copied.
    public var topics: TopicSelection
    /// Which consumer groups have their offsets translated across this flow.
    public var groups: GroupSelection
    /// Batching and compression on the link.
    public var batching: FlowBatching
    /// Directory of the offset map's local cache file (`offsets-<source>-<target>.map`).
    public var dataDirectory: String
    /// How often the offset map's new ranges are stored (internal topic, then the cache file).
    public var mapStoreInterval: Duration
    /// How often source topics are checked for new topics and partitions, and lag refreshed.
    public var provisioningInterval: Duration
    /// How often the lag gauges are refreshed from the source's log ends.
    public var lagInterval: Duration
    /// How long to wait before starting over after a retriable failure.
    public var retryBackoff: Duration
    /// How often the ``GroupCheckpointer`` beside the flow reads the selected groups' committed
    /// offsets at the source and stores their translation at the target (`mirror.checkpoint_interval`).
    /// After losing the source site a group re-reads at most what it consumed in one interval.
    public var checkpointInterval: Duration = .seconds(1)
    /// Checkpoints older than this are reported rather than used when positioning groups from
    /// checkpoints (`mirror.checkpoint_max_age`; `nil`: no bound).
    public var checkpointMaxAge: Duration? = .seconds(30)

    public init(
        source: FlowEndpoint,
        target: FlowEndpoint,
        naming: TopicNaming,
        topics: TopicSelection,
        groups: GroupSelection,
        batching: FlowBatching = FlowBatching(),
        dataDirectory: String,
        mapStoreInterval: Duration = .milliseconds(200),
        provisioningInterval: Duration = .seconds(30),
        lagInterval: Duration = .seconds(1),
        retryBackoff: Duration = .seconds(2)
    ) {
        self.source = source
        self.target = target
        self.naming = naming
        self.topics = topics
        self.groups = groups
        self.batching = batching
        self.dataDirectory = dataDirectory
        self.mapStoreInterval = mapStoreInterval
        self.provisioningInterval = provisioningInterval
        self.lagInterval = lagInterval
        self.retryBackoff = retryBackoff
    }

    /// The flow these settings describe.
    public var flow: FlowID { FlowID(from: source.site, to: target.site) }

    /// The name at the target of source topic `topic` when this flow copies it: selected by
    /// `topics` and mirrored by the naming policy (not a copy that came from the target).
    public func copies(_ topic: TopicName) -> TopicName? {
        guard topics.selects(topic) else { return nil }
        return naming.targetTopic(for: topic, from: source.site, to: target.site)
    }

    /// The internal, compacted topic on the target cluster holding this flow's offset map:
    /// `__switchback.offsets.<source>.<target>` (site names contain no dots, so it is unambiguous).
    public var offsetMapTopic: TopicName {
        // Site names are 1–63 characters of a-z 0-9 '-': the name is always legal (≤ 148 bytes).
        TopicName(uncheckedRawValue: "__switchback.offsets.\(source.site).\(target.site)")
    }

    /// The local cache file of the offset map.
    public var offsetMapFilePath: String {
        let directory = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        return "\(directory)/offsets-\(source.site)-\(target.site).map"
    }

    /// Properties the flow never lets raw settings change: exactly-once resume needs the
    /// idempotent producer with `acks=all` and in-order delivery.
    static let enforcedProducerProperties: Set<String> = [
        "enable.idempotence", "acks", "request.required.acks", "max.in.flight.requests.per.connection",
        "max.in.flight", "transactional.id",
    ]

    /// The target producer's settings: idempotent, `acks=all`, batching as configured.
    var producerConfiguration: KafkaProducerConfiguration {
        var client = target.clientConfiguration(clientID: "switchback-mirror-\(source.site)-\(target.site)")
        client.properties = client.properties.filter { !Self.enforcedProducerProperties.contains($0.key) }
        return KafkaProducerConfiguration(
            client: client,
            idempotent: true, acks: .all, linger: batching.linger, batchSize: batching.batchBytes,
            compression: batching.compression,
            maxQueuedRecords: max(100_000, batching.maxBatchRecords * 2))
    }

    /// The source consumer's settings: manual assignment, no commits (positions come from the
    /// target), large fetches.
    var consumerConfiguration: KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(
            client: source.clientConfiguration(clientID: "switchback-mirror-\(source.site)-\(target.site)"),
            offsetReset: .earliest, isolationLevel: .readCommitted,
            maxRecordsPerPoll: 5_000)
        configuration.fetchMaxWait = .milliseconds(100)
        return configuration
    }
}
