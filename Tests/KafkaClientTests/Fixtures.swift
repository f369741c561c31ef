import KafkaClient
import Logging
import TestSupport
import Testing

/// Runs `body` against a fresh librdkafka mock cluster (in-process, loopback TCP).
func withMockCluster<T>(
    brokers: Int = 1, _ body: (MockKafkaCluster) async throws -> T
) async throws -> T {
    let cluster = try MockKafkaCluster(brokers: brokers)
    return try await body(cluster)
}

/// Runs `body` with a producer for `cluster` that reconnects quickly, shut down afterwards.
func withProducer<T>(
    _ cluster: MockKafkaCluster,
    configure: (inout KafkaProducerConfiguration) -> Void = { _ in },
    _ body: (KafkaProducer) async throws -> T
) async throws -> T {
    try await withProducer(cluster.bootstrapServers, configure: { configuration in
        configuration.client.properties = fastReconnect
        configure(&configuration)
    }, body)
}

/// Runs `body` with a consumer for `cluster` that reconnects quickly, closed afterwards.
func withConsumer<T>(
    _ cluster: MockKafkaCluster, group: GroupID? = nil,
    configure: (inout KafkaConsumerConfiguration) -> Void = { _ in },
    _ body: (KafkaConsumer) async throws -> T
) async throws -> T {
    try await withConsumer(cluster.bootstrapServers, group: group, configure: { configuration in
        configuration.client.properties = fastReconnect
        configure(&configuration)
    }, body)
}

/// Reconnects to a mock broker that came back within ~100 ms instead of up to 10 s.
let fastReconnect = ["reconnect.backoff.ms": "10", "reconnect.backoff.max.ms": "100"]
