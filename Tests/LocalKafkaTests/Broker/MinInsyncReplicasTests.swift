import KafkaClient
import Testing
import TestSupport

/// LocalKafka is a single replica: a topic whose `min.insync.replicas` is above 1 refuses
/// `acks=all` produces with NOT_ENOUGH_REPLICAS (error 19), as Kafka refuses them when the
/// in-sync replica set is smaller than `min.insync.replicas`, while `acks=1` and `acks=0`
/// produces are still taken. Switchback's producer fence rests on exactly this behaviour.
@Suite(.timeLimit(.minutes(2))) struct MinInsyncReplicasTests {
    /// An `acks=all` producer that reports the broker's first answer (no retries), so the
    /// refusal's own code reaches the test instead of a delivery time-out.
    static func producer(_ bootstrap: String, acks: KafkaProducerConfiguration.Acks) throws -> KafkaProducer {
        var client = KafkaClientSupport.clientConfiguration(bootstrap)
        client.properties["message.send.max.retries"] = "0"
        let configuration = KafkaProducerConfiguration(
            client: client, idempotent: false, acks: acks, linger: .milliseconds(1), deliveryTimeout: .seconds(30))
        return try KafkaProducer(configuration: configuration, logger: KafkaClientSupport.quietLogger)
    }

    static func send(_ value: String, to topic: TopicName, _ producer: KafkaProducer) async -> Result<DeliveredRecord, KafkaError> {
        do {
            return .success(try await producer.send(ProducerRecord(topic: topic, partition: 0, value: Array(value.utf8))))
        } catch {
            return .failure(error)
        }
    }

    static func values(_ topic: TopicName, _ bootstrap: String) async throws -> [String] {
        try await KafkaClientSupport.readAll(topic, partitions: 1, from: bootstrap)[0, default: []].compactMap(\.valueString)
    }

    @Test func acksAllIsRefusedAboveTheReplicaCountWhileLeaderAcksAreTaken() async throws {
        try await withLocalKafka { broker in
            let bootstrap = broker.bootstrapServers
            let admin = try KafkaClientSupport.admin(bootstrap)
            let topic = uniqueTopic("min-isr")
            try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["min.insync.replicas": "2"])])[topic]?.get()

            let all = try Self.producer(bootstrap, acks: .all)
            let refused = await Self.send("acks-all", to: topic, all)
            #expect(refused.failure?.code == .notEnoughReplicas, "\(refused)")

            let leader = try Self.producer(bootstrap, acks: .leader)
            let taken = await Self.send("acks-1", to: topic, leader)
            #expect(taken.success?.offset == Offset(0), "\(taken)")

            let none = try Self.producer(bootstrap, acks: .none)
            let unacknowledged = await Self.send("acks-0", to: topic, none)
            #expect(unacknowledged.failure == nil, "\(unacknowledged)")
            await all.shutdown()
            await leader.shutdown()
            await none.shutdown()

            #expect(try await Self.values(topic, bootstrap) == ["acks-1", "acks-0"])
        }
    }

    /// The idempotent producer (always `acks=all`) retries NOT_ENOUGH_REPLICAS, which Kafka
    /// marks retriable, and its send fails once its delivery time-out passes: nothing lands.
    @Test func idempotentProducerNeverLandsARecordWhileRefused() async throws {
        try await withLocalKafka { broker in
            let bootstrap = broker.bootstrapServers
            let admin = try KafkaClientSupport.admin(bootstrap)
            let topic = uniqueTopic("min-isr-idempotent")
            try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["min.insync.replicas": "3"])])[topic]?.get()
            let producer = try KafkaClientSupport.producer(bootstrap, deliveryTimeout: .seconds(2))
            let outcome = await Self.send("never", to: topic, producer)
            #expect(outcome.failure != nil, "\(outcome)")
            await producer.shutdown()
            let marks = try await admin.watermarks(of: TopicPartition(topic, 0))
            #expect(marks.high == Offset(0))
        }
    }

    /// Raised and lowered through AlterConfigs (API 33, which replaces the topic's dynamic
    /// set; `KafkaAdmin.alterTopicConfigs` writes the other dynamic configs back).
    @Test func alterConfigsRaisesAndRestoresAndKeepsOtherConfigs() async throws {
        try await withLocalKafka { broker in
            let bootstrap = broker.bootstrapServers
            let admin = try KafkaClientSupport.admin(bootstrap)
            let topic = uniqueTopic("min-isr-alter")
            try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["retention.ms": "3600000"])])[topic]?.get()
            let producer = try Self.producer(bootstrap, acks: .all)

            #expect(await Self.send("before", to: topic, producer).failure == nil)
            try await admin.alterTopicConfigs(topic, set: ["min.insync.replicas": "2"])
            let dynamic = try await Self.dynamicConfigs(topic, admin)
            #expect(dynamic == ["retention.ms": "3600000", "min.insync.replicas": "2"])
            #expect(await Self.send("fenced", to: topic, producer).failure?.code == .notEnoughReplicas)

            try await admin.alterTopicConfigs(topic, set: [:], delete: ["min.insync.replicas"])
            #expect(try await Self.dynamicConfigs(topic, admin) == ["retention.ms": "3600000"])
            #expect(await Self.send("after", to: topic, producer).failure == nil)
            await producer.shutdown()
            #expect(try await Self.values(topic, bootstrap) == ["before", "after"])
        }
    }

    @Test(arguments: ["0", "-1", "two", "2147483648"])
    func invalidValuesAreRefusedNamingTheKey(value: String) async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaClientSupport.admin(broker.bootstrapServers)
            let topic = uniqueTopic("min-isr-invalid")
            try await admin.createTopics([NewTopic(name: topic, partitions: 1)])[topic]?.get()
            do {
                try await admin.alterTopicConfigs(topic, set: ["min.insync.replicas": value])
                Issue.record("min.insync.replicas=\(value) was accepted")
            } catch let error as KafkaError {
                #expect(error.code == .invalidConfig, "\(error)")
                #expect(error.message.contains("min.insync.replicas"), "\(error)")
            }
            #expect(try await Self.dynamicConfigs(topic, admin) == [:])
        }
    }

    static func dynamicConfigs(_ topic: TopicName, _ admin: KafkaAdmin) async throws -> [String: String] {
        let entries = try #require(try await admin.describeTopicConfigs([topic])[topic]).get()
        return Dictionary(uniqueKeysWithValues: entries.filter { $0.source == .dynamicTopic }.compactMap { entry in
            entry.value.map { (entry.name, $0) }
        })
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
