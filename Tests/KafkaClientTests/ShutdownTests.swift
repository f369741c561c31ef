import KafkaClient
import Synchronization
import TestSupport
import Testing

/// Collects what a producing task saw, for the test to check afterwards.
private final class DeliveryLog: Sendable {
    private let entries = Mutex<[TopicPartition: [Offset: String]]>([:])
    private let failures = Mutex<[KafkaError]>([])

    func record(_ delivered: DeliveredRecord, value: String) {
        entries.withLock { $0[delivered.topicPartition, default: [:]][delivered.offset] = value }
    }

    func record(_ error: KafkaError) { failures.withLock { $0.append(error) } }

    var delivered: [TopicPartition: [Offset: String]] { entries.withLock { $0 } }
    var deliveredCount: Int { entries.withLock { $0.values.reduce(0) { $0 + $1.count } } }
    var errors: [KafkaError] { failures.withLock { $0 } }
}

@Suite(.timeLimit(.minutes(1))) struct ShutdownTests {
    @Test func producerShutdownUnderLoadLosesNothingItAcknowledged() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 3)
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers))
            let log = DeliveryLog()
            let load = Task {
                var sequence = 0
                while true {
                    let values = (sequence..<sequence + 100).map { "record-\($0)" }
                    sequence += 100
                    let outcomes: [Result<DeliveredRecord, KafkaError>]
                    do {
                        outcomes = try await producer.send(values.map { ProducerRecord(topic: topic, key: $0, value: $0) })
                    } catch let error as KafkaError {
                        log.record(error)
                        return
                    } catch {
                        log.record(KafkaError(code: .failed, message: "\(error)"))
                        return
                    }
                    for (value, outcome) in zip(values, outcomes) {
                        switch outcome {
                        case .success(let delivered): log.record(delivered, value: value)
                        case .failure(let error): log.record(error)
                        }
                    }
                }
            }
            try await eventually("the producer is under load") { log.deliveredCount >= 2_000 }
            await producer.shutdown()
            await load.value

            // The load stopped because the producer refused more records, and said why.
            let refusal = try #require(log.errors.last)
            #expect(refusal.code == .destroyed)
            #expect(refusal.message.contains("shutting down") || refusal.message.contains("shut down"))

            let delivered = log.delivered
            let total = delivered.values.reduce(0) { $0 + $1.count }
            let read = try await withConsumer(cluster) { consumer in
                let partitions = (0..<3).map { TopicPartition(topic, Partition($0)) }
                let ends = try await consumer.endOffsets(partitions)
                try await consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, StartOffset.earliest) }))
                return try await consumer.read(Int(ends.values.reduce(0) { $0 + $1.rawValue }))
            }
            var stored: [TopicPartition: [Offset: String]] = [:]
            for record in read { stored[record.topicPartition, default: [:]][record.offset] = record.valueString }
            #expect(total >= 2_000)
            for (partition, records) in delivered {
                for (offset, value) in records {
                    #expect(stored[partition]?[offset] == value, "acknowledged \(value) at \(partition)@\(offset) is missing")
                }
            }
        }
    }

    @Test func consumerCloseUnderLoadKeepsCommittedPositions() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 2)
            let group = GroupID("closing-\(topic)")
            let keepProducing = Flag()
            let producing = Task {
                try await withProducer(cluster) { producer in
                    var index = 0
                    while !keepProducing.isSet {
                        let outcomes = try await producer.send((index..<index + 50).map { ProducerRecord(topic: topic, value: "v\($0)") })
                        for outcome in outcomes { _ = try outcome.get() }
                        index += 50
                    }
                }
            }
            var configuration = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: group)
            configuration.client.properties = fastReconnect
            configuration.maxRecordsPerPoll = 25
            let consumer = try KafkaConsumer(configuration: configuration)
            try consumer.subscribe([topic])
            var committed: [TopicPartition: Offset] = [:]
            var consumed = 0
            for try await record in consumer.records {
                consumed += 1
                // Commit every tenth record's successor, as an application processing in batches would.
                if consumed % 10 == 0 {
                    try await consumer.commit(after: record)
                    committed[record.topicPartition] = record.offset.next
                }
                if consumed == 500 { break }
            }
            // Close while records keep arriving and fetches are in flight.
            let iterating = Task {
                var count = 0
                for try await _ in consumer.records { count += 1 }
                return count
            }
            await consumer.close()
            _ = try await iterating.value  // ends instead of hanging or crashing
            keepProducing.set()
            try await producing.value

            #expect(!committed.isEmpty)
            let afterClose = try await withConsumer(cluster, group: group) { consumer in
                try await consumer.committed(Array(committed.keys))
            }
            #expect(afterClose == committed)
        }
    }
}
