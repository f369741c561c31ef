/// How a ``KafkaProducer`` batches, compresses and acknowledges records.
public struct KafkaProducerConfiguration: Sendable, CustomStringConvertible {
    /// Which acknowledgement the producer waits for before a send succeeds.
    public enum Acks: String, Sendable {
        /// The leader and all in-sync replicas (`acks=all`, required by idempotence).
        case all = "all"
        /// The leader only (`acks=1`).
        case leader = "1"
        /// None (`acks=0`); delivery reports then carry no offsets.
        case none = "0"
    }

    /// Batch compression (`compression.codec`).
    public enum Compression: String, Sendable {
        case none, gzip, snappy, lz4, zstd
    }

    public var client: KafkaClientConfiguration
    /// Exactly-once per partition within a producer session, in order
    /// (`enable.idempotence`). Default `true`; the mirror depends on it.
    public var idempotent: Bool
    /// Default `.all`.
    public var acks: Acks
    /// How long to wait for more records before sending a batch (`linger.ms`). Default 5 ms.
    public var linger: Duration
    /// The largest batch in bytes (`batch.size`). Default 1 000 000 (librdkafka's), which
    /// stays under brokers' `message.max.bytes` and consumers' `max.partition.fetch.bytes`
    /// (1 MiB each by default): a larger uncompressed batch may be refused, or never fetched
    /// by a consumer or broker that does not return oversized batches.
    public var batchSize: Int
    /// Default `.lz4`: cheap on CPU and effective on links between datacenters.
    public var compression: Compression
    /// How long a record may wait for delivery, retries included, before its send fails
    /// (`message.timeout.ms`). Default 5 minutes.
    public var deliveryTimeout: Duration
    /// The most records waiting in the producer before sends wait for room
    /// (`queue.buffering.max.messages`). Default 100 000.
    public var maxQueuedRecords: Int
    /// Makes this a transactional producer (`transactional.id`): records are sent inside
    /// transactions (see ``KafkaProducer/beginTransaction()``), and a new producer with the same
    /// id fences this one. Default nil (not transactional). Requires ``idempotent``.
    public var transactionalID: TransactionalID?
    /// How long a transaction may stay open before the coordinator aborts it
    /// (`transaction.timeout.ms`). Default 60 s (librdkafka's). Used only with ``transactionalID``;
    /// it also caps ``deliveryTimeout``, as librdkafka requires.
    public var transactionTimeout: Duration

    public init(
        client: KafkaClientConfiguration,
        idempotent: Bool = true,
        acks: Acks = .all,
        linger: Duration = .milliseconds(5),
        batchSize: Int = 1_000_000,
        compression: Compression = .lz4,
        deliveryTimeout: Duration = .seconds(300),
        maxQueuedRecords: Int = 100_000,
        transactionalID: TransactionalID? = nil,
        transactionTimeout: Duration = .seconds(60)
    ) {
        self.client = client
        self.idempotent = idempotent
        self.acks = acks
        self.linger = linger
        self.batchSize = batchSize
        self.compression = compression
        self.deliveryTimeout = deliveryTimeout
        self.maxQueuedRecords = maxQueuedRecords
        self.transactionalID = transactionalID
        self.transactionTimeout = transactionTimeout
    }

    /// A producer for `bootstrapServers` with every other setting at its default.
    public init(bootstrapServers: [String]) {
        self.init(client: KafkaClientConfiguration(bootstrapServers: bootstrapServers))
    }

    /// The librdkafka properties these settings stand for, raw properties last.
    public var librdkafkaProperties: [String: String] {
        var result = client.typedProperties
        result["enable.idempotence"] = idempotent ? "true" : "false"
        result["acks"] = acks.rawValue
        result["linger.ms"] = String(linger.wholeMilliseconds)
        result["batch.size"] = String(batchSize)
        result["compression.codec"] = compression.rawValue
        result["message.timeout.ms"] = String(deliveryTimeout.wholeMilliseconds)
        result["queue.buffering.max.messages"] = String(maxQueuedRecords)
        if let transactionalID {
            result["transactional.id"] = transactionalID.rawValue
            result["transaction.timeout.ms"] = String(transactionTimeout.wholeMilliseconds)
            // librdkafka refuses a record timeout longer than the transaction's: a record cannot
            // outlive the transaction it belongs to.
            result["message.timeout.ms"] = String(min(deliveryTimeout, transactionTimeout).wholeMilliseconds)
        }
        return result.merging(client.properties) { $1 }
    }

    public var description: String {
        "KafkaProducerConfiguration(\(KafkaConfigurationRedaction.describe(librdkafkaProperties)))"
    }
}
