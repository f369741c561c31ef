import KafkaClient
import Logging
import Synchronization
import Testing

/// Runs `body` against a fresh librdkafka mock cluster (in-process, loopback TCP).
func withMockCluster<T>(
    brokers: Int = 1, _ body: (MockKafkaCluster) async throws -> T
) async throws -> T {
    let cluster = try MockKafkaCluster(brokers: brokers)
    return try await body(cluster)
}

/// Runs `body` with a producer for `cluster`, shutting it down afterwards (also on failure).
func withProducer<T>(
    _ cluster: MockKafkaCluster,
    configure: (inout KafkaProducerConfiguration) -> Void = { _ in },
    _ body: (KafkaProducer) async throws -> T
) async throws -> T {
    var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
    configuration.linger = .milliseconds(1)
    configuration.client.properties = fastReconnect
    configure(&configuration)
    let producer = try KafkaProducer(configuration: configuration)
    do {
        let result = try await body(producer)
        await producer.shutdown()
        return result
    } catch {
        await producer.shutdown(timeout: .seconds(1))
        throw error
    }
}

/// Runs `body` with a consumer for `cluster`, closing it afterwards (also on failure).
func withConsumer<T>(
    _ cluster: MockKafkaCluster, group: GroupID? = nil,
    configure: (inout KafkaConsumerConfiguration) -> Void = { _ in },
    _ body: (KafkaConsumer) async throws -> T
) async throws -> T {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: group)
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .milliseconds(500)
    configuration.client.properties = fastReconnect
    configure(&configuration)
    let consumer = try KafkaConsumer(configuration: configuration)
    do {
        let result = try await body(consumer)
        await consumer.close()
        return result
    } catch {
        await consumer.close()
        throw error
    }
}

/// Reconnects to a mock broker that came back within ~100 ms instead of up to 10 s.
let fastReconnect = ["reconnect.backoff.ms": "10", "reconnect.backoff.max.ms": "100"]

/// A topic name no other test uses.
func uniqueTopic(_ base: String = "t") -> TopicName {
    TopicName("\(base)-\(UInt32.random(in: 0...UInt32.max))")
}

struct Timeout: Error, CustomStringConvertible {
    var description: String
}

extension KafkaConsumer {
    /// Reads records until `count` have arrived, failing after `deadline` (a condition wait
    /// with a deadline, not a sleep).
    func read(_ count: Int, within deadline: Duration = .seconds(15)) async throws -> [KafkaRecord] {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        var result: [KafkaRecord] = []
        try await withThrowingTaskGroup(of: [KafkaRecord]?.self) { group in
            group.addTask {
                var collected: [KafkaRecord] = []
                for try await record in self.records {
                    collected.append(record)
                    if collected.count >= count { break }
                }
                return collected
            }
            group.addTask {
                try? await Task.sleep(until: end, clock: clock)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                throw Timeout(description: "read fewer than \(count) records within \(deadline)")
            }
            result = first
        }
        return result
    }
}

/// Waits until `condition` holds, polling it, failing after `deadline`.
func eventually(
    within deadline: Duration = .seconds(15), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: deadline)
    while clock.now < end {
        if try await condition() { return }
        await Task.yield()
        try await Task.sleep(for: .milliseconds(20))
    }
    throw Timeout(description: "\(what) did not happen within \(deadline)")
}

/// A flag one task raises and another watches.
final class Flag: Sendable {
    private let raised = Atomic(false)
    func set() { raised.store(true, ordering: .releasing) }
    var isSet: Bool { raised.load(ordering: .acquiring) }
}
