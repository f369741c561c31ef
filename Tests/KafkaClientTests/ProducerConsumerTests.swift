import KafkaClient
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct ProducerConsumerTests {
    @Test func roundTripsKeysValuesHeadersAndTimestamps() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 2)
            let headers = [
                KafkaHeader(key: "a", string: "1"),
                KafkaHeader(key: "a", string: "2"),
                KafkaHeader(key: "null", value: nil),
                KafkaHeader(key: "empty", value: []),
            ]
            let sent = [
                ProducerRecord(topic: topic, partition: 1, key: "k1", value: "v1", headers: headers,
                               timestamp: KafkaTimestamp(milliseconds: 1_700_000_000_000)),
                ProducerRecord(topic: topic, partition: 1, key: nil, value: nil),
                ProducerRecord(topic: topic, partition: 1, key: [], value: []),
            ]
            let delivered = try await withProducer(cluster) { producer in
                try await producer.send(sent).map { try $0.get() }
            }
            #expect(delivered.map(\.offset) == [0, 1, 2])
            #expect(delivered.allSatisfy { $0.topic == topic && $0.partition == 1 })

            let received = try await withConsumer(cluster) { consumer in
                try await consumer.assign([TopicPartition(topic, 1): .earliest])
                return try await consumer.read(3)
            }
            #expect(received.map(\.offset) == [0, 1, 2])
            #expect(received[0].key == Array("k1".utf8))
            #expect(received[0].value == Array("v1".utf8))
            #expect(received[0].headers == headers)
            #expect(received[0].timestamp == KafkaTimestamp(milliseconds: 1_700_000_000_000))
            #expect(received[0].timestampType == .createTime)
            #expect(received[1].key == nil)
            #expect(received[1].value == nil)
            #expect(received[1].headers.isEmpty)
            #expect(received[2].key == [])
            #expect(received[2].value == [])
        }
    }
}
