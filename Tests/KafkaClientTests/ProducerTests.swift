import KafkaClient
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct ProducerTests {
    @Test func explicitPartitionsAndKeysChooseThePartition() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 4)
            try await withProducer(cluster) { producer in
                let pinned = try await producer.send(ProducerRecord(topic: topic, partition: 3, value: "x"))
                #expect(pinned.partition == 3)
                #expect(pinned.offset == 0)
                // The same key always lands in the same partition.
                var partitions: Set<Partition> = []
                for index in 0..<5 {
                    let delivered = try await producer.send(ProducerRecord(topic: topic, key: "same-key", value: "v\(index)"))
                    partitions.insert(delivered.partition)
                }
                #expect(partitions.count == 1)
            }
        }
    }

    @Test func batchSendKeepsEachRecordsOutcome() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            try await withProducer(cluster) { producer in
                // Learn the metadata first, so the bad partition is refused for what it is.
                _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "warm-up"))
                let outcomes = try await producer.send([
                    ProducerRecord(topic: topic, partition: 0, value: "a"),
                    ProducerRecord(topic: topic, partition: 7, value: "no such partition"),
                    ProducerRecord(topic: topic, partition: 0, value: "b"),
                ])
                #expect(outcomes.count == 3)
                #expect(try outcomes[0].get().offset == 1)
                #expect(try outcomes[2].get().offset == 2)
                let failure = try #require(outcomes[1].failureValue)
                #expect(failure.code == .unknownPartition)
                #expect(failure.topic == topic)
                #expect(failure.partition == 7)
                #expect(failure.message.contains("sending a record to \(topic)"))
            }
        }
    }

    @Test func aFullQueueMakesSendsWaitForRoomInsteadOfFailing() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            // librdkafka holds at most 10 records; 500 must go through in turns, in order.
            try await withProducer(cluster, configure: { $0.maxQueuedRecords = 10 }) { producer in
                let outcomes = try await producer.send((0..<500).map { ProducerRecord(topic: topic, partition: 0, value: "v\($0)") })
                #expect(try outcomes.map { try $0.get().offset } == (0..<500).map { Offset($0) })
            }
        }
    }

    @Test func emptyBatchReturnsNoOutcomes() async throws {
        try await withMockCluster { cluster in
            try await withProducer(cluster) { producer in
                let outcomes = try await producer.send([])
                #expect(outcomes.isEmpty)
            }
        }
    }

    @Test func idempotentProducerRetriesWithoutDuplicatesOrReordering() async throws {
        try await withMockCluster(brokers: 1) { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            try await withProducer(cluster) { producer in
                #expect(producer.configuration.librdkafkaProperties["enable.idempotence"] == "true")
                _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "first"))
                // The next produce requests fail with retriable errors; the idempotent producer
                // retries them in order, and the broker de-duplicates by sequence number.
                cluster.pushRequestErrors(apiKey: 0, [.notEnoughReplicas, .requestTimedOut, .leaderNotAvailable])
                let records = (0..<20).map { ProducerRecord(topic: topic, partition: 0, value: "r\($0)") }
                let delivered = try await producer.send(records).map { try $0.get() }
                #expect(delivered.map(\.offset) == (1...20).map { Offset($0) })
            }
            let read = try await withConsumer(cluster) { consumer in
                try await consumer.assign([TopicPartition(topic, 0): .earliest])
                return try await consumer.read(21)
            }
            #expect(read.compactMap(\.valueString) == ["first"] + (0..<20).map { "r\($0)" })
            #expect(read.map(\.offset) == (0...20).map { Offset($0) })
        }
    }

    @Test func sendWaitsForABrokerThatComesBack() async throws {
        try await withMockCluster(brokers: 1) { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            try await withProducer(cluster) { producer in
                _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "before"))
                try cluster.setBrokerDown(1)
                let pending = Task { try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "during")) }
                try await eventually("the record is waiting in the producer") { producer.inFlightCount == 1 }
                try cluster.setBrokerUp(1)
                let delivered = try await pending.value
                #expect(delivered.offset == 1)
            }
        }
    }

    @Test func sendToADownBrokerFailsWithARetriableTimeout() async throws {
        try await withMockCluster(brokers: 1) { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            try await withProducer(cluster, configure: { $0.deliveryTimeout = .milliseconds(600) }) { producer in
                // The first send also waits for a producer id; on a busy machine that may take
                // longer than the short delivery timeout, which is what retries are for.
                try await sendWithRetries(ProducerRecord(topic: topic, partition: 0, value: "before"), producer)
                try cluster.setBrokerDown(1)
                let error = await #expect(throws: KafkaError.self) {
                    try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "lost"))
                }
                #expect(error?.code == .messageTimedOut)
                #expect(error?.isRetriable == true)
                #expect(error?.topic == topic)
                #expect(error?.message.contains("retry") == true)
                try cluster.setBrokerUp(1)
                // The error said retry: once the broker is back, a retry succeeds.
                let delivered = try await sendWithRetries(ProducerRecord(topic: topic, partition: 0, value: "after"), producer)
                #expect(delivered.offset == 1)
            }
        }
    }

    @Test func sendAfterShutdownIsRefused() async throws {
        try await withMockCluster { cluster in
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers))
            await producer.shutdown()
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(ProducerRecord(topic: "t", value: "x"))
            }
            #expect(error?.code == .destroyed)
            #expect(error?.isRetriable == false)
        }
    }

    @Test func flushTimesOutWhileRecordsAreStuckAndSucceedsOnceDelivered() async throws {
        try await withMockCluster(brokers: 1) { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            try await withProducer(cluster) { producer in
                _ = try await producer.send(ProducerRecord(topic: topic, value: "warm-up"))
                try cluster.setBrokerDown(1)
                let sends = Task { try await producer.send((0..<50).map { ProducerRecord(topic: topic, value: "v\($0)") }) }
                try await eventually("all records were handed over") { producer.inFlightCount == 50 }
                let error = await #expect(throws: KafkaError.self) { try await producer.flush(timeout: .milliseconds(100)) }
                #expect(error?.code == .timedOut)
                try cluster.setBrokerUp(1)
                try await producer.flush(timeout: .seconds(10))
                #expect(producer.inFlightCount == 0)
                let offsets = try await sends.value.map { try $0.get().offset }
                #expect(offsets == (1...50).map { Offset($0) })
            }
        }
    }
}

/// Sends `record`, sending it again while the error says a retry may succeed.
@discardableResult
func sendWithRetries(_ record: ProducerRecord, _ producer: KafkaProducer) async throws -> DeliveredRecord {
    var delivered: DeliveredRecord?
    try await eventually("a send succeeds") {
        do {
            delivered = try await producer.send(record)
            return true
        } catch let error as KafkaError where error.isRetriable {
            return false
        }
    }
    return try #require(delivered)
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
