import KafkaClient
import Testing

/// The transactional producer's configuration and its errors as values. Transactions end to end
/// run against LocalKafka in CompatibilityTests (`KafkaClientTransactionTests`).
@Suite(.timeLimit(.minutes(1))) struct TransactionTests {
    @Test func aTransactionalIdBecomesLibrdkafkaPropertiesAndCapsTheDeliveryTimeout() {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["localhost:9092"])
        #expect(configuration.librdkafkaProperties["transactional.id"] == nil)
        configuration.transactionalID = "orders-writer"
        configuration.transactionTimeout = .seconds(20)
        let properties = configuration.librdkafkaProperties
        #expect(properties["transactional.id"] == "orders-writer")
        #expect(properties["transaction.timeout.ms"] == "20000")
        // librdkafka refuses message.timeout.ms above transaction.timeout.ms.
        #expect(properties["message.timeout.ms"] == "20000")
        #expect(properties["enable.idempotence"] == "true")
    }

    @Test func aTransactionalProducerCanBeCreatedWithTheDefaults() async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["localhost:9092"])
        configuration.transactionalID = "defaults"
        // Default delivery timeout (5 min) above the default transaction timeout (60 s) must not be refused.
        let producer = try KafkaProducer(configuration: configuration)
        await producer.shutdown(timeout: .milliseconds(100))
    }

    @Test func transactionalCallsOnAPlainProducerFailAsValues() async throws {
        try await withMockCluster { cluster in
            try await withProducer(cluster) { producer in
                let begin = try #require(throws: KafkaError.self) { try producer.beginTransaction() }
                #expect(!begin.isRetriable)
                #expect(begin.message.contains("beginning a transaction"))
                let commit = try await #require(throws: KafkaError.self) { try await producer.commitTransaction(timeout: .seconds(1)) }
                #expect(commit.message.contains("committing the transaction"))
            }
        }
    }
}
