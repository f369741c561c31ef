import KafkaClient
import Testing
import TestSupport

/// KafkaClient's producer and group consumer (librdkafka 2.0.2) against LocalKafka.
@Suite(.timeLimit(.minutes(2))) struct KafkaClientRoundTripTests {
    @Test func producesConsumesInAGroupCommitsAndResumesFromTheCommit() async throws {
        try await withLocalKafka(configure: { $0.defaultPartitions = 3 }) { broker in
            let topic = uniqueTopic("round-trip")
            let group = GroupID("round-trip-\(topic)")
            let sent = (0..<30).map { index in
                ProducerRecord(
                    topic: topic, key: "key-\(index % 5)", value: "value-\(index)",
                    headers: [KafkaHeader(key: "index", string: "\(index)"), KafkaHeader(key: "empty", value: nil)],
                    timestamp: KafkaTimestamp(milliseconds: 1_700_000_000_000 + Int64(index)))
            }
            let delivered = try await withProducer(broker.bootstrapServers) { producer in
                try await producer.send(sent).map { try $0.get() }
            }
            #expect(Set(delivered.map(\.partition)).isSubset(of: [0, 1, 2]))
            // Per partition, offsets are dense and in send order.
            for partition in Set(delivered.map(\.partition)) {
                let offsets = delivered.filter { $0.partition == partition }.map(\.offset.rawValue)
                #expect(offsets == Array(0..<Int64(offsets.count)))
            }

            // First member reads 20 records and commits what it processed.
            let firstPass = try await withConsumer(broker.bootstrapServers, group: group) { consumer in
                try consumer.subscribe([topic])
                let records = try await consumer.read(30)
                var next: [TopicPartition: Offset] = [:]
                for record in records.prefix(20) { next[record.topicPartition] = Offset(record.offset.rawValue + 1) }
                try await consumer.commit(nextOffsets: next)
                #expect(try await consumer.committed(Array(next.keys)) == next)
                return (records, next)
            }
            let (records, committed) = firstPass
            #expect(records.count == 30)
            #expect(Set(records.compactMap(\.valueString)) == Set(sent.map { String(decoding: $0.value ?? [], as: UTF8.self) }))
            for record in records {
                let index = try #require(record.valueString.flatMap { Int($0.dropFirst("value-".count)) })
                #expect(record.keyString == "key-\(index % 5)")
                #expect(record.headers == [KafkaHeader(key: "index", string: "\(index)"), KafkaHeader(key: "empty", value: nil)])
                #expect(record.timestamp == KafkaTimestamp(milliseconds: 1_700_000_000_000 + Int64(index)))
                #expect(record.timestampType == .createTime)
            }

            // A new member of the group starts where the commit says, on every partition.
            let secondPass = try await withConsumer(broker.bootstrapServers, group: group) { consumer in
                #expect(try await consumer.committed(Array(committed.keys)) == committed)
                try consumer.subscribe([topic])
                return try await consumer.read(30 - committed.values.reduce(0) { $0 + Int($1.rawValue) })
            }
            for record in secondPass {
                #expect(record.offset.rawValue >= committed[record.topicPartition]?.rawValue ?? 0, "\(record) was re-read")
            }
            let all = Set((records.filter { record in
                record.offset.rawValue < committed[record.topicPartition]?.rawValue ?? 0
            } + secondPass).map { "\($0.topicPartition)@\($0.offset)" })
            #expect(all.count == 30)
        }
    }
}
