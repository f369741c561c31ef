import Logging

/// librdkafka's in-process mock Kafka cluster, listening on loopback TCP ports.
///
/// For tests and demos only: it keeps everything in memory and, in librdkafka 2.0.2, answers
/// only the data path and consumer groups (Produce, Fetch, ListOffsets, Metadata, OffsetCommit,
/// OffsetFetch, group membership, InitProducerId) - no CreateTopics, DeleteTopics,
/// DescribeConfigs, AlterConfigs, ListGroups or DescribeGroups. Create topics with
/// ``createTopic(_:partitions:replicationFactor:)``.
///
/// - Important: Shut the clients that use the cluster down before releasing it.
public final class MockKafkaCluster: Sendable {
    /// The broker ids, `1...brokerCount`.
    public let brokerIDs: [Int32]
    /// `host:port` of every mock broker, for ``KafkaClientConfiguration/bootstrapServers``.
    public let bootstrapServers: [String]
    private let cluster: RDMockCluster

    /// Starts a cluster of `brokers` brokers.
    public init(brokers: Int = 3, logger: Logger = Logger(label: "switchback.kafka.mock")) throws(KafkaError) {
        guard (1...32).contains(brokers) else {
            throw KafkaError(
                code: .invalidArgument, message: "a mock cluster needs 1 to 32 brokers, not \(brokers).",
                isRetriable: false)
        }
        cluster = try RDMockCluster(brokers: Int32(brokers), logger: logger)
        brokerIDs = Array(1...Int32(brokers))
        bootstrapServers = cluster.bootstraps.split(separator: ",").map(String.init)
    }

    /// Creates `topic` with `partitions` partitions.
    public func createTopic(_ topic: TopicName, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        try cluster.createTopic(topic.rawValue, partitions: partitions, replicationFactor: replicationFactor)
    }

    /// Takes broker `id` down: its connections are closed and new ones refused.
    public func setBrokerDown(_ id: Int32) throws(KafkaError) {
        try cluster.setBroker(id, up: false)
    }

    /// Brings broker `id` back up.
    public func setBrokerUp(_ id: Int32) throws(KafkaError) {
        try cluster.setBroker(id, up: true)
    }

    /// Makes broker `leader` the leader of `partition` (`-1` leaves it without a leader).
    public func setLeader(of partition: TopicPartition, to leader: Int32) throws(KafkaError) {
        try cluster.setLeader(partition.topic.rawValue, partition.partition.rawValue, leader)
    }

    /// Makes the next requests of the Kafka protocol API `apiKey` (for example 0 = Produce,
    /// 1 = Fetch, 8 = OffsetCommit) fail with `errors`, one per request, on any broker.
    public func pushRequestErrors(apiKey: Int16, _ errors: [KafkaError.Code]) {
        cluster.pushRequestErrors(apiKey: apiKey, errors.map(\.rawValue))
    }

    /// Forgets the errors pushed for `apiKey` that have not been used yet.
    public func clearRequestErrors(apiKey: Int16) {
        cluster.clearRequestErrors(apiKey: apiKey)
    }
}
