import KafkaClient
import Logging

/// The keys of every committed record of a topic on one cluster, read from the log start to
/// the log end as they are at the call.
///
/// Reads `read_committed`, as the workload's consumer does: a record of an aborted or still
/// open transaction is not there for an application, so it is not counted as there. A partition
/// may end in a transaction marker, for which no record comes back; the read finishes on the
/// consumer's position, not on a last record.
enum TopicKeys {
    /// The keys per partition of `topic` at `bootstrap`; a topic that does not exist has none.
    /// - Throws: ``SandboxError`` when the cluster does not answer or the read does not reach
    ///   the log ends within `limit`.
    static func read(_ topic: String, at bootstrap: String, within limit: Duration = .seconds(20), logger: Logger)
        async throws -> [Int32: Set<String>]
    {
        let deadline = ContinuousClock.now + limit
        let client = KafkaClientConfiguration(bootstrapServers: [bootstrap], logLevel: .error)
        let name = TopicName(topic)
        let ends: [TopicPartition: Offset]
        do {
            let admin = try KafkaAdmin(configuration: client, logger: logger)
            guard let metadata = try await admin.listTopics(timeout: .seconds(5))[name] else { return [:] }
            var found: [TopicPartition: Offset] = [:]
            for partition in metadata.partitions {
                let topicPartition = TopicPartition(name, partition.partition)
                found[topicPartition] = try await admin.watermarks(of: topicPartition, timeout: .seconds(5)).high
            }
            ends = found
        } catch {
            throw SandboxError("cannot read the partitions and log ends of \(topic) at \(bootstrap): \(error)")
        }
        var keys = Dictionary(uniqueKeysWithValues: ends.keys.map { ($0.partition.rawValue, Set<String>()) })
        let unread = ends.filter { $0.value.rawValue > 0 }
        guard !unread.isEmpty else { return keys }
        var configuration = KafkaConsumerConfiguration(client: client, offsetReset: .earliest, isolationLevel: .readCommitted)
        configuration.maxRecordsPerPoll = 5_000
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(configuration: configuration, logger: logger)
            try await consumer.assign(unread.mapValues { _ in StartOffset.earliest })
        } catch {
            throw SandboxError("cannot read \(topic) at \(bootstrap): \(error)")
        }
        var finished = false
        do {
            while !finished, ContinuousClock.now < deadline {
                let batch = try await consumer.nextBatch()
                for record in batch.records where record.offset < unread[record.topicPartition] ?? 0 {
                    if let key = record.keyString { keys[record.partition.rawValue, default: []].insert(key) }
                }
                finished = unread.allSatisfy { partition, end in (batch.positions[partition] ?? 0) >= end }
            }
        } catch {
            await consumer.close()
            throw SandboxError("reading \(topic) at \(bootstrap) failed: \(error)")
        }
        await consumer.close()
        guard finished else {
            throw SandboxError("reading \(topic) at \(bootstrap) did not reach the log ends \(unread.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }) within \(limit)")
        }
        return keys
    }
}
