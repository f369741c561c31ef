import Foundation
import KafkaClient
import LocalKafka
import Testing
import TestSupport

/// What clients wrote before LocalKafka stopped, they find after it starts again on the same
/// data directory: records, committed group offsets, topic configs.
@Suite(.timeLimit(.minutes(2))) struct RestartTests {
    /// Runs `body` against a broker on `directory` (a free port each time), stopped afterwards.
    static func withBroker<T>(on directory: URL, _ body: (LocalKafkaBroker) async throws -> T) async throws -> T {
        let broker = try await LocalKafkaBroker.start(configuration: BrokerConfiguration(dataDirectory: directory, port: 0))
        let running = Task { try await broker.run() }
        defer { running.cancel() }
        let result = try await body(broker)
        running.cancel()
        _ = try? await running.value
        return result
    }

    @Test func recordsCommitsAndConfigsSurviveARestart() async throws {
        try await withTemporaryDirectory(prefix: "restart") { directory in
            let topic = uniqueTopic("restart")
            let group = KafkaClient.GroupID("restart-\(topic)")
            let partition = TopicPartition(topic, 0)
            try await Self.withBroker(on: directory) { broker in
                let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
                try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["retention.ms": "86400000"])])[topic]?.get()
                try await withProducer(broker.bootstrapServers) { producer in
                    for index in 0..<10 {
                        _ = try await producer.send(ProducerRecord(
                            topic: topic, partition: 0, key: "k\(index)", value: "v\(index)",
                            headers: [KafkaHeader(key: "index", string: "\(index)")]))
                    }
                }
                try await withConsumer(broker.bootstrapServers, group: group) { consumer in
                    try await consumer.commit(nextOffsets: [partition: 6])
                }
            }
            try await Self.withBroker(on: directory) { broker in
                let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
                #expect(try await admin.watermarks(of: partition) == Watermarks(low: 0, high: 10))
                let configs = try #require(try await admin.describeTopicConfigs([topic])[topic]).get()
                #expect(configs.first { $0.name == "retention.ms" }?.value == "86400000")
                let resumed = try await withConsumer(broker.bootstrapServers, group: group) { consumer in
                    #expect(try await consumer.committed([partition]) == [partition: 6])
                    try consumer.subscribe([topic])
                    return try await consumer.read(4)
                }
                #expect(resumed.map(\.offset) == [6, 7, 8, 9])
                #expect(resumed.map(\.keyString) == ["k6", "k7", "k8", "k9"])
                #expect(resumed.map(\.valueString) == ["v6", "v7", "v8", "v9"])
                #expect(resumed.map(\.headers) == (6..<10).map { [KafkaHeader(key: "index", string: "\($0)")] })
            }
        }
    }
}
