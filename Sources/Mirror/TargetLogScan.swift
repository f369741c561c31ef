import KafkaClient
import Logging

/// Reads stretches of target partitions: the records a restarted flow has not yet recorded in
/// its offset map (through to the last record, which says where to resume), and the
/// offset-map topic itself.
struct TargetLogScan {
    /// A record as the scan keeps it: where it is and what it carries.
    struct ScannedRecord: Sendable {
        var offset: Offset
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [RecordHeader]
    }

    let client: KafkaClientConfiguration
    let logger: Logger
    /// The longest a scan may take before it is reported as failed.
    var timeout: Duration = .seconds(60)

    /// The records of each partition from its start offset up to (not including) its end.
    ///
    /// A start below the log start reads from the log start (deleted records are gone).
    /// - Throws: ``MirrorError`` (retriable) when reading fails or takes longer than `timeout`.
    func read(from starts: [KafkaClient.TopicPartition: KafkaClient.Offset],
              to ends: [KafkaClient.TopicPartition: KafkaClient.Offset]) async throws(MirrorError)
        -> [KafkaClient.TopicPartition: [ScannedRecord]]
    {
        var remaining = Set(starts.keys.filter { partition in
            guard let end = ends[partition] else { return false }
            return starts[partition, default: end] < end
        })
        var result: [KafkaClient.TopicPartition: [ScannedRecord]] = [:]
        guard !remaining.isEmpty else { return result }
        var configuration = KafkaConsumerConfiguration(client: client, offsetReset: .earliest, isolationLevel: .readUncommitted)
        configuration.maxRecordsPerPoll = 5_000
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        } catch {
            throw MirrorError(.kafka, "cannot create a consumer to read the target cluster: \(error)", isRetriable: true)
        }
        defer { Task { await consumer.close() } }
        do {
            let assignment = Dictionary(uniqueKeysWithValues: remaining.map { ($0, StartOffset.offset(starts[$0] ?? 0)) })
            try await consumer.assign(assignment)
            let deadline = ContinuousClock.now + timeout
            var iterator = consumer.records.makeAsyncIterator()
            let watchdog = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                await consumer.close()
            }
            defer { watchdog.cancel() }
            while !remaining.isEmpty {
                guard let record = try await iterator.next() else {
                    throw MirrorError(.kafka, "reading the target partitions \(remaining.sorted()) did not reach their "
                        + "ends within \(timeout); check the target cluster", isRetriable: true)
                }
                let partition = record.topicPartition
                guard remaining.contains(partition), let end = ends[partition] else { continue }
                if record.offset < end {
                    result[partition, default: []].append(ScannedRecord(
                        offset: Offset(kafka: record.offset), key: record.key, value: record.value,
                        headers: record.mirrorHeaders))
                }
                if record.offset.next >= end {
                    remaining.remove(partition)
                }
            }
        } catch let error as MirrorError {
            throw error
        } catch {
            throw MirrorError(.kafka, "reading the target cluster failed: \(error)", isRetriable: true)
        }
        return result
    }
}
