import KafkaClient
import Testing

/// Runs `body` with a KafkaClient producer for the broker at `bootstrap`, shut down afterwards
/// (also on failure).
func withProducer<T>(
    _ bootstrap: String,
    configure: (inout KafkaProducerConfiguration) -> Void = { _ in },
    _ body: (KafkaProducer) async throws -> T
) async throws -> T {
    var configuration = KafkaProducerConfiguration(bootstrapServers: [bootstrap])
    configuration.linger = .milliseconds(1)
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

/// Runs `body` with a KafkaClient consumer for the broker at `bootstrap` (short group timeouts),
/// closed afterwards.
func withConsumer<T>(
    _ bootstrap: String, group: GroupID? = nil, _ body: (KafkaConsumer) async throws -> T
) async throws -> T {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap], groupID: group)
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .milliseconds(500)
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

/// A topic name no other test uses.
func uniqueTopic(_ base: String) -> TopicName {
    TopicName("\(base)-\(UInt32.random(in: 0...UInt32.max))")
}

struct DeadlinePassed: Error, CustomStringConvertible {
    var description: String
}

extension KafkaConsumer {
    /// Reads until `count` records arrived, failing when `deadline` passes first.
    func read(_ count: Int, within deadline: Duration = .seconds(45)) async throws -> [KafkaRecord] {
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
                try? await Task.sleep(for: deadline)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                throw DeadlinePassed(description: "fewer than \(count) records arrived within \(deadline)")
            }
            return first
        }
    }
}

/// Polls `condition` until it holds, failing when `deadline` passes first. Deadlines are
/// generous: a full `swift test` run can keep both cores busy for tens of seconds.
func eventually(
    within deadline: Duration = .seconds(45), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: deadline)
    while clock.now < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw DeadlinePassed(description: "\(what) did not happen within \(deadline)")
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
