import Foundation
import KafkaClient
import LocalKafka
import Testing
import TestSupport

/// What clients wrote before LocalKafka stopped, they find after it starts again on the same
/// data directory: records, committed group offsets, topic configs.
@Suite(.timeLimit(.minutes(2))) struct RestartTests {
    /// Runs `body` against a broker on `directory` and `port` (0: a free one), stopped afterwards.
    static func withBroker<T>(on directory: URL, port: Int = 0, _ body: (LocalKafkaBroker) async throws -> T) async throws -> T {
        let broker = try await LocalKafkaBroker.start(configuration: BrokerConfiguration(dataDirectory: directory, port: port))
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

    /// The mirror's idempotent producer keeps sending through a broker restart: the broker
    /// recovers the producer's sequence state, so nothing is refused, lost or written twice.
    @Test func anIdempotentProducerCarriesOnThroughARestart() async throws {
        try await withTemporaryDirectory(prefix: "restart-producer") { directory in
            let topic = uniqueTopic("idempotent")
            var port = 0
            let bootstrap = try await Self.withBroker(on: directory) { broker in
                port = Int(broker.bootstrapServers.split(separator: ":").last ?? "") ?? 0
                return broker.bootstrapServers
            }
            var configuration = KafkaProducerConfiguration(bootstrapServers: [bootstrap])
            configuration.idempotent = true
            configuration.linger = .milliseconds(1)
            configuration.client.properties = ["reconnect.backoff.ms": "20", "reconnect.backoff.max.ms": "200"]
            let producer = try KafkaProducer(configuration: configuration)
            func send(_ prefix: String) async throws -> [Offset] {
                try await producer.send((0..<5).map { ProducerRecord(topic: topic, partition: 0, value: "\(prefix)\($0)") })
                    .map { try $0.get().offset }
            }
            let before = try await Self.withBroker(on: directory, port: port) { _ in try await send("before-") }
            let after = try await Self.withBroker(on: directory, port: port) { broker in
                let offsets = try await send("after-")
                let records = try await withConsumer(broker.bootstrapServers) { consumer in
                    try await consumer.assign([TopicPartition(topic, 0): .earliest])
                    return try await consumer.read(10)
                }
                #expect(records.map(\.valueString) == (0..<5).map { "before-\($0)" } + (0..<5).map { "after-\($0)" })
                return offsets
            }
            await producer.shutdown(timeout: .seconds(5))
            #expect(before == [0, 1, 2, 3, 4])
            #expect(after == [5, 6, 7, 8, 9])
        }
    }
}
