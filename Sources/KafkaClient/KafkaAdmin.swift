import Logging

/// Administers topics, configs and consumer groups of one Kafka cluster.
///
/// Every call runs off the cooperative pool and returns Swift values; calls on several items
/// keep each item's own outcome (`[TopicName: Result<…, KafkaError>]`) and throw only when the
/// request as a whole failed.
///
/// - Important: librdkafka 2.0.2 (the version on Debian 12) has no IncrementalAlterConfigs
///   and no admin ListOffsets. ``alterTopicConfigs(_:set:delete:timeout:)`` therefore reads the
///   topic's dynamic configs and writes all of them back with the change, and
///   ``offsets(forTimes:timeout:)`` uses `rd_kafka_offsets_for_times`.
public final class KafkaAdmin: Sendable {
    /// The settings this client was created with (secrets are masked when printed).
    public let configuration: KafkaClientConfiguration
    private let client: RDClient

    public init(
        configuration: KafkaClientConfiguration, logger: Logger = Logger(label: "switchback.kafka.admin")
    ) throws(KafkaError) {
        self.configuration = configuration
        // Admin requests need a handle of either kind; a producer handle fetches nothing.
        client = try RDClient(
            kind: .producer, properties: configuration.librdkafkaProperties,
            logger: logger)
        client.startPolling()
        if Librdkafka.hasIncrementalAlterConfigs {
            logger.info(
                "librdkafka \(Librdkafka.version) offers IncrementalAlterConfigs, but Switchback is built against the 2.0.2 headers and alters configs by reading, merging and writing them all back")
        }
    }

    /// An admin client for `bootstrapServers`, other settings at their defaults.
    public convenience init(bootstrapServers: [String]) throws(KafkaError) {
        try self.init(configuration: KafkaClientConfiguration(bootstrapServers: bootstrapServers))
    }

    deinit {
        client.requestStop()
    }

    /// Every topic in the cluster with its partitions (internal topics included; see
    /// ``TopicName/isInternal``).
    public func listTopics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicName: TopicMetadata] {
        try await run { client throws(KafkaError) in try client.metadata(timeout: timeout) }
    }

    /// Creates topics; one that already exists fails with ``KafkaError/Code/topicAlreadyExists``.
    public func createTopics(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws(KafkaError)
        -> [TopicName: Result<Void, KafkaError>]
    {
        try await run { client throws(KafkaError) in try client.createTopics(topics, timeout: timeout) }
    }

    /// Grows topics to the given total partition counts (Kafka cannot shrink them).
    public func createPartitions(_ totals: [TopicName: Int], timeout: Duration = .seconds(30)) async throws(KafkaError)
        -> [TopicName: Result<Void, KafkaError>]
    {
        try await run { client throws(KafkaError) in try client.createPartitions(totals, timeout: timeout) }
    }

    public func deleteTopics(_ topics: [TopicName], timeout: Duration = .seconds(30)) async throws(KafkaError)
        -> [TopicName: Result<Void, KafkaError>]
    {
        try await run { client throws(KafkaError) in try client.deleteTopics(topics, timeout: timeout) }
    }

    /// Every config of each topic, with where its value comes from.
    public func describeTopicConfigs(_ topics: [TopicName], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicName: Result<[ConfigEntry], KafkaError>]
    {
        try await run { client throws(KafkaError) in try client.describeTopicConfigs(topics, timeout: timeout) }
    }

    /// Sets and removes dynamic configs of `topic`, keeping its other dynamic configs.
    ///
    /// AlterConfigs (the only call librdkafka 2.0.2 has) replaces the whole dynamic set, so this
    /// reads the topic's configs whose source is the topic itself, applies the change, and
    /// writes all of them back. Not atomic: a change made by someone else between the read and
    /// the write is lost.
    /// - Throws: if a dynamic config is sensitive (the broker hides its value, so it could not
    ///   be written back) and is not set here.
    public func alterTopicConfigs(
        _ topic: TopicName, set: [String: String], delete: [String] = [], timeout: Duration = .seconds(30)
    ) async throws(KafkaError) {
        try await run { client throws(KafkaError) in
            guard let described = try client.describeTopicConfigs([topic], timeout: timeout)[topic] else {
                throw KafkaError(
                    code: .unknownTopicOrPartition, message: "the cluster did not describe topic \(topic); check its name.",
                    isRetriable: true, topic: topic)
            }
            let merged = try Self.merge(try described.get(), set: set, delete: delete, topic: topic)
            try client.replaceTopicConfigs(topic, merged, timeout: timeout)
        }
    }

    /// The dynamic configs to write back: the topic's own ones, changed as asked.
    static func merge(_ entries: [ConfigEntry], set: [String: String], delete: [String], topic: TopicName) throws(KafkaError)
        -> [String: String]
    {
        var merged: [String: String] = [:]
        for entry in entries where entry.source == .dynamicTopic {
            guard let value = entry.value else {
                if set[entry.name] != nil || delete.contains(entry.name) { continue }
                throw KafkaError(
                    code: .invalidConfig,
                    message: "topic \(topic) has the sensitive config \(entry.name), whose value the broker hides; "
                        + "altering configs would erase it. Pass it in `set` too.",
                    isRetriable: false, topic: topic)
            }
            merged[entry.name] = value
        }
        for key in delete { merged[key] = nil }
        merged.merge(set) { $1 }
        return merged
    }

    /// The consumer groups the cluster knows.
    public func listConsumerGroups(timeout: Duration = .seconds(10)) async throws(KafkaError) -> ConsumerGroupList {
        try await run { client throws(KafkaError) in try client.listConsumerGroups(timeout: timeout) }
    }

    /// The state and members of each group.
    ///
    /// - Important: With librdkafka 2.0.2, a broker that does not implement DescribeGroups may
    ///   leave this call without an answer until `timeout` (seen with the mock cluster).
    public func describeConsumerGroups(_ groups: [GroupID], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [GroupID: Result<ConsumerGroupDescription, KafkaError>]
    {
        try await run { client throws(KafkaError) in try client.describeConsumerGroups(groups, timeout: timeout) }
    }

    /// The committed next offset to read of each partition of `group` that has one
    /// (`partitions` nil: every partition of every topic the cluster has).
    ///
    /// With nil, the partitions are listed first and asked for by name: librdkafka 2.0.2 asks
    /// for "all partitions" with an empty topic list rather than a null one, which Kafka (and
    /// LocalKafka) answer with nothing.
    public func committedOffsets(
        group: GroupID, partitions: [TopicPartition]? = nil, timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartition: Offset] {
        var wanted = partitions
        if wanted == nil {
            let topics = try await listTopics(timeout: timeout)
            wanted = topics.values.flatMap { topic in
                (0..<topic.partitionCount).map { TopicPartition(topic.name, Partition(Int32($0))) }
            }
        }
        guard let wanted, !wanted.isEmpty else { return [:] }
        return try await run { client throws(KafkaError) in try client.groupOffsets(group, partitions: wanted, timeout: timeout) }
    }

    /// Sets the committed next offsets to read of `group`. Kafka accepts it only while the
    /// group has no active members.
    public func alterCommittedOffsets(
        group: GroupID, nextOffsets: [TopicPartition: Offset], timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartition: Result<Void, KafkaError>] {
        try await run { client throws(KafkaError) in try client.alterGroupOffsets(group, nextOffsets, timeout: timeout) }
    }

    /// Removes the committed offsets of `group` for `partitions` (OffsetDelete), so the group
    /// starts them from `auto.offset.reset` again. Kafka accepts it per partition only while the
    /// group is not subscribed to the partition's topic.
    public func deleteCommittedOffsets(
        group: GroupID, partitions: [TopicPartition], timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartition: Result<Void, KafkaError>] {
        guard !partitions.isEmpty else { return [:] }
        return try await run { client throws(KafkaError) in try client.deleteGroupOffsets(group, partitions, timeout: timeout) }
    }

    /// Deletes the records before the given offsets; each outcome is the partition's new log start.
    public func deleteRecords(before offsets: [TopicPartition: Offset], timeout: Duration = .seconds(30)) async throws(KafkaError)
        -> [TopicPartition: Result<Offset, KafkaError>]
    {
        try await run { client throws(KafkaError) in try client.deleteRecords(before: offsets, timeout: timeout) }
    }

    /// For each partition, the offset of the first record with a timestamp at or after the
    /// given one; `nil` when the partition has none that late.
    public func offsets(forTimes times: [TopicPartition: KafkaTimestamp], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicPartition: Offset?]
    {
        try await run { client throws(KafkaError) in try client.offsets(forTimes: times, timeout: timeout) }
    }

    /// The log start and log end of a partition.
    ///
    /// - Important: librdkafka asks with its default `isolation.level=read_committed`, so `high`
    ///   is the last stable offset: below the high watermark while a transaction is open.
    public func watermarks(of partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Watermarks {
        try await run { client throws(KafkaError) in try client.watermarks(of: partition, timeout: timeout) }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (RDClient) throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let client = self.client
        return try await RDBlocking.run { () throws(KafkaError) in try body(client) }
    }
}
