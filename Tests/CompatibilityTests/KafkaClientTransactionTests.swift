import KafkaClient
import Testing
import TestSupport

/// KafkaClient's transactional producer (librdkafka 2.0.2) against LocalKafka's transaction
/// coordinator, read back with read_committed and read_uncommitted consumers.
@Suite(.timeLimit(.minutes(2))) struct KafkaClientTransactionTests {
    @Test func committedRecordsAreVisibleAbortedOnesOnlyToReadUncommitted() async throws {
        try await withLocalKafka { broker in
            let topic = uniqueTopic("txn-client")
            try await withProducer(broker.bootstrapServers, configure: { $0.transactionalID = TransactionalID("txn-client-\(topic)") }) { producer in
                try await producer.initTransactions()
                try producer.beginTransaction()
                _ = try await producer.send((0..<3).map { ProducerRecord(topic: topic, partition: 0, value: "committed-\($0)") })
                try await producer.commitTransaction()
                try producer.beginTransaction()
                _ = try await producer.send((0..<2).map { ProducerRecord(topic: topic, partition: 0, value: "aborted-\($0)") })
                try await producer.abortTransaction()
                try producer.beginTransaction()
                _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "last"))
                try await producer.commitTransaction()
            }
            let partition = TopicPartition(topic, 0)
            // Offsets: 0-2 committed, 3 marker, 4-5 aborted, 6 marker, 7 committed, 8 marker.
            let committed = try await withConsumer(broker.bootstrapServers) { consumer in
                try await consumer.assign([partition: .earliest])
                let records = try await consumer.read(4)
                // The partition ends in a marker: the consumer's position moves past it although
                // no record is delivered for it (what the mirror's drain relies on).
                try await eventually("the read_committed position passes the last marker") {
                    try consumer.positions([partition])[partition] == Offset(9)
                }
                return records
            }
            #expect(committed.compactMap(\.valueString) == ["committed-0", "committed-1", "committed-2", "last"])
            #expect(committed.map(\.offset) == [0, 1, 2, 7])

            var configuration = KafkaConsumerConfiguration(bootstrapServers: [broker.bootstrapServers], groupID: nil)
            configuration.isolationLevel = .readUncommitted
            let consumer = try KafkaConsumer(configuration: configuration)
            try await consumer.assign([partition: .earliest])
            let everything = try await consumer.read(6)
            await consumer.close()
            #expect(everything.compactMap(\.valueString) == ["committed-0", "committed-1", "committed-2", "aborted-0", "aborted-1", "last"])
        }
    }

    @Test func aSecondProducerWithTheSameIdFencesTheFirst() async throws {
        try await withLocalKafka { broker in
            let topic = uniqueTopic("txn-fence")
            let id = TransactionalID("txn-fence-\(topic)")
            try await withProducer(broker.bootstrapServers, configure: { $0.transactionalID = id }) { first in
                try await first.initTransactions()
                try first.beginTransaction()
                _ = try await first.send(ProducerRecord(topic: topic, partition: 0, value: "left-open"))
                try await withProducer(broker.bootstrapServers, configure: { $0.transactionalID = id }) { second in
                    // Aborts the first producer's open transaction and bumps the epoch.
                    try await second.initTransactions()
                    try second.beginTransaction()
                    _ = try await second.send(ProducerRecord(topic: topic, partition: 0, value: "second"))
                    try await second.commitTransaction()
                }
                let error = try await #require(throws: KafkaError.self) { try await first.commitTransaction() }
                #expect(error.isFatal || error.transactionRequiresAbort, "\(error)")
            }
            let records = try await withConsumer(broker.bootstrapServers) { consumer in
                try await consumer.assign([TopicPartition(topic, 0): .earliest])
                return try await consumer.read(1)
            }
            #expect(records.compactMap(\.valueString) == ["second"])
        }
    }
}
