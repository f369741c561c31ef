import KafkaClient
import Logging
import Mirror

extension FlowEndpoint {
    /// Client settings for this site's cluster under `clientID`, with the site's own properties
    /// (security and the like).
    func kafkaClient(_ clientID: String) -> KafkaClientConfiguration {
        var client = KafkaClientConfiguration(bootstrapServers: bootstrapServers, clientID: clientID, properties: properties)
        client.logLevel = .error
        return client
    }

    func admin(_ clientID: String, logger: Logger) throws(FencingError) -> KafkaAdmin {
        do {
            return try KafkaAdmin(configuration: kafkaClient(clientID), logger: logger)
        } catch {
            throw FencingError.kafka("creating an admin client for \(site)'s cluster", error)
        }
    }

    /// An idempotent `acks=all` producer: a retried send never writes a record twice, and the
    /// records of one partition land in the order they were sent.
    func idempotentProducer(_ clientID: String, deliveryTimeout: Duration, logger: Logger) throws(FencingError) -> KafkaProducer {
        let configuration = KafkaProducerConfiguration(
            client: kafkaClient(clientID), idempotent: true, acks: .all, linger: .milliseconds(5),
            deliveryTimeout: deliveryTimeout)
        do {
            return try KafkaProducer(configuration: configuration, logger: logger)
        } catch {
            throw FencingError.kafka("creating a producer for \(site)'s cluster", error)
        }
    }
}

/// Reads stretches of partitions, `[start, end)` each, batch by batch, without a group.
///
/// Finished for a partition when the consumer's position reaches its end: positions also move
/// past offsets that return no record (compacted away, transaction markers), so a stretch that
/// ends in a gap still finishes.
struct PartitionRangeReader {
    let client: KafkaClientConfiguration
    let logger: Logger
    /// The longest a read may take before it is reported as failed.
    var timeout: Duration

    /// Calls `body` with every record of the stretches in offset order per partition (a batch
    /// at a time); returns once every partition is read to its end.
    func read(
        _ stretches: [KafkaClient.TopicPartition: Range<KafkaClient.Offset>],
        _ body: ([KafkaRecord]) async throws(FencingError) -> Void
    ) async throws(FencingError) {
        var remaining = Set(stretches.filter { !$0.value.isEmpty }.keys)
        guard !remaining.isEmpty else { return }
        var configuration = KafkaConsumerConfiguration(client: client, offsetReset: .earliest, isolationLevel: .readUncommitted)
        configuration.maxRecordsPerPoll = 2_000
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(configuration: configuration, logger: logger)
            try await consumer.assign(Dictionary(uniqueKeysWithValues: remaining.map { ($0, StartOffset.offset(stretches[$0]!.lowerBound)) }))
        } catch {
            throw FencingError.kafka("reading \(remaining.sorted()) from \(client.bootstrapServers)", error)
        }
        let deadline = ContinuousClock.now + timeout
        do throws(FencingError) {
            while !remaining.isEmpty {
                if Task.isCancelled { throw FencingError.cancelled("reading \(remaining.sorted())") }
                guard ContinuousClock.now < deadline else {
                    throw FencingError(.kafka, "reading \(remaining.sorted()) did not reach their ends \(stretches) within \(timeout); "
                        + "check the cluster at \(client.bootstrapServers)", isRetriable: true)
                }
                let batch: KafkaConsumerBatch
                do {
                    batch = try await consumer.nextBatch()
                } catch {
                    throw FencingError.kafka("reading \(remaining.sorted())", error)
                }
                let wanted = batch.records.filter { record in
                    guard let stretch = stretches[record.topicPartition] else { return false }
                    return stretch.contains(record.offset)
                }
                if !wanted.isEmpty { try await body(wanted) }
                for partition in remaining {
                    let end = stretches[partition]!.upperBound
                    let lastSeen = wanted.last(where: { $0.topicPartition == partition })?.offset.next
                    if let position = [batch.positions[partition], lastSeen].compactMap({ $0 }).max(), position >= end {
                        remaining.remove(partition)
                    }
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }
}
