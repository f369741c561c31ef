import Foundation
import KafkaClient
import Testing
import TestSupport

/// Broker bugs the compatibility suite found, each pinned through KafkaClient (librdkafka
/// 2.0.2). The Python suites check the same behaviour with their clients.
@Suite(.timeLimit(.minutes(2))) struct BrokerRegressionTests {
    /// LocalKafka stored batches of `message.timestamp.type=LogAppendTime` topics unchanged, so
    /// consumers reported the producer's CreateTime instead of the broker's append time.
    @Test(arguments: [KafkaProducerConfiguration.Compression.none, .lz4])
    func logAppendTimeTopicsReportTheBrokersAppendTime(compression: KafkaProducerConfiguration.Compression) async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("append-time")
            let created = try await admin.createTopics([
                NewTopic(name: topic, partitions: 1, configs: ["message.timestamp.type": "LogAppendTime"]),
            ])
            try created[topic]?.get()
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let producerTime = KafkaTimestamp(milliseconds: 1_000)
            try await withProducer(broker.bootstrapServers, configure: { $0.compression = compression }) { producer in
                let outcomes = try await producer.send((0..<5).map {
                    ProducerRecord(topic: topic, partition: 0, value: "record-\($0)", timestamp: producerTime)
                })
                for outcome in outcomes { _ = try outcome.get() }
            }
            let after = Int64(Date().timeIntervalSince1970 * 1000)
            let records = try await withConsumer(broker.bootstrapServers) { consumer in
                try await consumer.assign([TopicPartition(topic, 0): .earliest])
                return try await consumer.read(5)
            }
            #expect(records.map(\.valueString) == (0..<5).map { "record-\($0)" })
            for record in records {
                #expect(record.timestampType == .logAppendTime)
                let stamp = try #require(record.timestamp).milliseconds
                // The broker's clock, not the producer's 1 000 ms.
                #expect(stamp >= before - 1_000 && stamp <= after + 1_000, "timestamp \(stamp) outside \(before)...\(after)")
            }
        }
    }

    /// ListOffsets with the MAX_TIMESTAMP spec (-3) was answered as "first record at or after
    /// time -3", i.e. the log start, instead of the record with the greatest timestamp.
    @Test func listOffsetsForTheMaxTimestampFindsTheNewestStampedRecord() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("max-timestamp")
            try await admin.createTopics([NewTopic(name: topic, partitions: 2)])[topic]?.get()
            let stamps: [Int64] = [5_000, 9_000, 7_000, 9_000, 1_000]
            try await withProducer(broker.bootstrapServers) { producer in
                for stamp in stamps {
                    _ = try await producer.send(ProducerRecord(
                        topic: topic, partition: 0, value: "at-\(stamp)", timestamp: KafkaTimestamp(milliseconds: 1_700_000_000_000 + stamp)))
                }
            }
            let p0 = TopicPartition(topic, 0)
            let p1 = TopicPartition(topic, 1)
            let found = try await admin.offsets(forTimes: [p0: KafkaTimestamp(milliseconds: -3), p1: KafkaTimestamp(milliseconds: -3)])
            // The first of the two records stamped 9 000; an empty partition has none.
            #expect(found[p0] == .some(Offset(1)))
            #expect(found[p1] == .some(nil))

            // Records before the log start no longer count.
            _ = try await admin.deleteRecords(before: [p0: 4])
            let afterDeletion = try await admin.offsets(forTimes: [p0: KafkaTimestamp(milliseconds: -3)])
            #expect(afterDeletion[p0] == .some(Offset(4)))
        }
    }
}
