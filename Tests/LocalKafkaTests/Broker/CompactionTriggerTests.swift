import Foundation
import KafkaClient
import LocalKafka
import Testing

#if os(Linux)
// Linux only: the control endpoint is called through raw sockets (Glibc).

/// The log cleaner as a client sees it over TCP: triggered through the broker API, the control
/// endpoint and the periodic cleaner; compacted partitions read through KafkaClient (librdkafka).
@Suite(.timeLimit(.minutes(2)))
struct CompactionTriggerTests {
    static let topic: TopicName = "compacted"

    /// A producer that sends each record as its own uncompressed batch (LocalKafka's cleaner
    /// does not open compressed batches).
    static func plainProducer(_ bootstrapServers: String) throws -> KafkaProducer {
        let configuration = KafkaProducerConfiguration(
            client: KafkaClientSupport.clientConfiguration(bootstrapServers), idempotent: false, acks: .all,
            linger: .zero, compression: .none, deliveryTimeout: .seconds(30)
        )
        return try KafkaProducer(configuration: configuration, logger: KafkaClientSupport.quietLogger)
    }

    /// Creates a compacted topic with small segments and writes `count` records over `keys` keys.
    static func writeCompactedTopic(_ broker: RecordedBroker, count: Int, keys: Int) async throws -> [(offset: Int64, key: String, value: String)] {
        let admin = try KafkaClientSupport.admin(broker.bootstrapServers)
        try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["cleanup.policy": "compact", "segment.bytes": "500"])])
        let producer = try plainProducer(broker.bootstrapServers)
        var written: [(Int64, String, String)] = []
        for index in 0..<count {
            let key = "k\(index % keys)"
            let delivered = try await producer.send(ProducerRecord(topic: topic, partition: 0, key: key, value: "v\(index)"))
            written.append((delivered.offset.rawValue, key, "v\(index)"))
        }
        await producer.shutdown()
        return written
    }

    static func read(_ broker: RecordedBroker) async throws -> [KafkaRecord] {
        try await KafkaClientSupport.readAll(topic, partitions: 1, from: broker.bootstrapServers)[0] ?? []
    }

    @Test func theControlEndpointCompactsAndClientsReadTheLatestPerKey() async throws {
        try await RecordedBroker.with { broker in
            let written = try await Self.writeCompactedTopic(broker, count: 60, keys: 5)
            let answer = try await ControlCall.send("POST", "/compact?topic=\(Self.topic)", to: broker.controlEndpoint)
            #expect(answer.status == 200)
            #expect(answer.body.contains("records removed"))

            let records = try await Self.read(broker)
            #expect(records.count < written.count)
            // Every record read is the one written at that offset, and every key's latest survives.
            for record in records {
                let original = written.first { $0.offset == record.offset.rawValue }
                #expect(original?.key == record.keyString && original?.value == record.valueString)
            }
            for key in Set(written.map(\.key)) {
                #expect(records.last { $0.keyString == key }?.valueString == written.last { $0.key == key }?.value)
            }
            #expect(broker.log.entries("compacted partition").contains { Int($0.metadata["recordsRemoved"] ?? "") ?? 0 > 0 })

            // A consumer placed on a removed offset gets the next record that is left.
            let kept = Set(records.map(\.offset.rawValue))
            let removed = try #require((0..<(records.last?.offset.rawValue ?? 0)).first { !kept.contains($0) })
            var configuration = KafkaConsumerConfiguration(bootstrapServers: [broker.bootstrapServers])
            configuration.client.logLevel = .critical
            let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaClientSupport.quietLogger)
            try await consumer.assign([TopicPartition(Self.topic, 0): .offset(Offset(removed))])
            let first = try await KafkaClientSupport.withDeadline(.seconds(30), "reading from removed offset \(removed)") {
                for try await record in consumer.records { return record.offset.rawValue }
                return Int64(-1)
            }
            await consumer.close()
            #expect(first == records.first { $0.offset.rawValue > removed }?.offset.rawValue)
        }
    }

    @Test func theBrokerApiReportsWhatItRemovedAndRefusesOtherTopics() async throws {
        try await RecordedBroker.with { broker in
            let written = try await Self.writeCompactedTopic(broker, count: 40, keys: 2)
            let report = try await broker.broker.compact(topic: Self.topic.rawValue)
            #expect(report.topic == Self.topic.rawValue)
            #expect(report.recordsRemoved > 0)
            #expect(try await Self.read(broker).count == written.count - report.recordsRemoved)
            #expect(try await broker.broker.compact(topic: Self.topic.rawValue).recordsRemoved == 0)

            let admin = try KafkaClientSupport.admin(broker.bootstrapServers)
            try await admin.createTopics([NewTopic(name: "plain", partitions: 1)])
            #expect(try await ControlCall.send("POST", "/compact?topic=plain", to: broker.controlEndpoint).status == 409)
            #expect(try await ControlCall.send("POST", "/compact?topic=missing", to: broker.controlEndpoint).status == 404)
            #expect(try await ControlCall.send("POST", "/compact", to: broker.controlEndpoint).status == 400)
            #expect(try await ControlCall.send("GET", "/compact?topic=plain", to: broker.controlEndpoint).status == 405)
        }
    }

    @Test func thePeriodicCleanerCompactsWithoutATrigger() async throws {
        try await RecordedBroker.with(configure: { $0.compactionInterval = .milliseconds(100) }) { broker in
            let written = try await Self.writeCompactedTopic(broker, count: 40, keys: 2)
            let deadline = ContinuousClock.now + .seconds(30)
            while broker.log.entries("compacted partition").isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await Self.read(broker).count < written.count)
            #expect(!broker.log.entries("compacted partition").isEmpty)
        }
    }

    @Test func recordsWithoutAKeyAreRefusedOnACompactedTopic() async throws {
        try await RecordedBroker.with { broker in
            _ = try await Self.writeCompactedTopic(broker, count: 1, keys: 1)
            let producer = try Self.plainProducer(broker.bootstrapServers)
            await #expect {
                _ = try await producer.send(ProducerRecord(topic: Self.topic, partition: 0, key: nil as [UInt8]?, value: Array("keyless".utf8)))
            } throws: { error in
                (error as? KafkaError)?.code.rawValue == 87
            }
            _ = try await producer.send(ProducerRecord(topic: Self.topic, partition: 0, key: "keyed", value: "fine"))
            await producer.shutdown()
        }
    }
}
#endif
