import KafkaClient
import Testing

@Suite struct ConfigurationTests {
    static let secrets = [
        "sasl.password": "hunter2",
        "ssl.key.password": "keypass-123",
        "ssl.keystore.password": "storepass-123",
        "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"jaas-secret\";",
        "sasl.oauthbearer.client.secret": "oauth-secret",
        "ssl.key.pem": "-----BEGIN PRIVATE KEY-----pem-secret",
        "ssl.certificate.pem": "-----BEGIN CERTIFICATE-----cert-material",
        "sasl.oauthbearer.token.endpoint.url": "https://idp/token",
    ]

    @Test func secretsNeverAppearWhenConfigurationIsPrinted() {
        var client = KafkaClientConfiguration(bootstrapServers: ["b1:9092"], properties: Self.secrets)
        client.properties["security.protocol"] = "SASL_SSL"
        let texts = [
            client.description,
            KafkaProducerConfiguration(client: client).description,
            KafkaConsumerConfiguration(client: client, groupID: "g").description,
            "\(KafkaProducerConfiguration(client: client))",
        ]
        for text in texts {
            for secret in ["hunter2", "keypass-123", "storepass-123", "jaas-secret", "oauth-secret", "pem-secret", "cert-material", "https://idp/token"] {
                #expect(!text.contains(secret), "\(secret) leaked in \(text)")
            }
            #expect(text.contains("sasl.password=***"))
            #expect(text.contains("security.protocol=SASL_SSL"))
            #expect(text.contains("bootstrap.servers=b1:9092"))
        }
    }

    @Test func secretKeysAreRecognised() {
        for key in Self.secrets.keys {
            #expect(KafkaConfigurationRedaction.isSecret(key), "\(key)")
        }
        for key in ["bootstrap.servers", "acks", "linger.ms", "security.protocol", "sasl.mechanisms", "ssl.ca.location"] {
            #expect(!KafkaConfigurationRedaction.isSecret(key), "\(key)")
        }
    }

    @Test func typedSettingsBecomeLibrdkafkaProperties() {
        var producer = KafkaProducerConfiguration(bootstrapServers: ["a:1", "b:2"])
        producer.linger = .milliseconds(20)
        producer.compression = .zstd
        producer.client.properties["linger.ms"] = "7"  // raw properties win
        let properties = producer.librdkafkaProperties
        #expect(properties["bootstrap.servers"] == "a:1,b:2")
        #expect(properties["enable.idempotence"] == "true")
        #expect(properties["acks"] == "all")
        #expect(properties["compression.codec"] == "zstd")
        #expect(properties["linger.ms"] == "7")

        let consumer = KafkaConsumerConfiguration(bootstrapServers: ["a:1"], groupID: "g")
        #expect(consumer.librdkafkaProperties["group.id"] == "g")
        #expect(consumer.librdkafkaProperties["enable.auto.commit"] == "false")
    }

    @Test func aRefusedPropertyIsNamedWithItsValue() {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["localhost:9"])
        configuration.client.properties["acks"] = "lots"
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: configuration) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("acks=lots") == true)
    }

    @Test func aRefusedSecretPropertyIsNamedButItsValueIsMasked() {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: ["localhost:9"])
        configuration.client.properties["sasl.password.typo"] = "hunter2"
        let error = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: configuration) }
        #expect(error?.message.contains("sasl.password.typo=***") == true)
        #expect(error.map { "\($0)" }?.contains("hunter2") == false)
    }

    @Test func aConfigurationLibrdkafkaRejectsAsAWholeIsReported() {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["localhost:9"])
        configuration.acks = .leader  // idempotence needs acks=all
        configuration.client.properties["sasl.password"] = "hunter2"
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: configuration) }
        #expect(error?.message.contains("acks") == true)
        #expect(error.map { "\($0)" }?.contains("hunter2") == false)
    }
}

@Suite struct KafkaErrorTests {
    @Test func describesCodeContextAndAdvice() {
        let error = KafkaError(code: .messageTimedOut, message: "delivering failed", topic: "orders", partition: 3)
        #expect(error.isRetriable)
        #expect(!error.isFatal)
        #expect(error.code.description == "_MSG_TIMED_OUT")
        #expect(error.description == "KafkaError(_MSG_TIMED_OUT) on orders[3]: delivering failed [retriable]")
    }

    @Test func retriableByDefaultFollowsTheKafkaProtocol() {
        for code: KafkaError.Code in [.transport, .allBrokersDown, .timedOut, .queueFull, .leaderNotAvailable, .notLeaderForPartition, .notCoordinator, .notEnoughReplicas] {
            #expect(KafkaError(code: code, message: "").isRetriable, "\(code)")
        }
        for code: KafkaError.Code in [.invalidArgument, .topicAuthorizationFailed, .fatal, .topicAlreadyExists, .invalidConfig, .unsupportedFeature] {
            #expect(!KafkaError(code: code, message: "").isRetriable, "\(code)")
        }
    }

    @Test func codesAreExtensible() {
        let future = KafkaError.Code(rawValue: 1_000)
        #expect(future != .failed)
        #expect(KafkaError(code: future, message: "x", isRetriable: true).isRetriable)
    }

    @Test func tagsContextWithoutLosingIt() {
        let error = KafkaError(code: .failed, message: "m").on("t", 2)
        #expect(error.topic == "t" && error.partition == 2)
        #expect(error.on(nil).topic == "t")
    }
}
