import KafkaClient

/// Runs `body` with a producer for `bootstrapServers`, shut down afterwards (also on failure,
/// then without waiting long for undelivered records).
public func withProducer<T>(
    _ bootstrapServers: [String],
    configure: (inout KafkaProducerConfiguration) -> Void = { _ in },
    _ body: (KafkaProducer) async throws -> T
) async throws -> T {
    var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
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

/// ``withProducer(_:configure:_:)`` for a single bootstrap server `host:port`.
public func withProducer<T>(
    _ bootstrap: String,
    configure: (inout KafkaProducerConfiguration) -> Void = { _ in },
    _ body: (KafkaProducer) async throws -> T
) async throws -> T {
    try await withProducer([bootstrap], configure: configure, body)
}

/// Runs `body` with a consumer for `bootstrapServers`, closed afterwards (also on failure).
/// Group timeouts are short (6 s session, 500 ms heartbeats) so rebalances in tests are quick.
public func withConsumer<T>(
    _ bootstrapServers: [String], group: GroupID? = nil,
    configure: (inout KafkaConsumerConfiguration) -> Void = { _ in },
    _ body: (KafkaConsumer) async throws -> T
) async throws -> T {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: group)
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .milliseconds(500)
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

/// ``withConsumer(_:group:configure:_:)`` for a single bootstrap server `host:port`.
public func withConsumer<T>(
    _ bootstrap: String, group: GroupID? = nil,
    configure: (inout KafkaConsumerConfiguration) -> Void = { _ in },
    _ body: (KafkaConsumer) async throws -> T
) async throws -> T {
    try await withConsumer([bootstrap], group: group, configure: configure, body)
}

/// A topic name no other test uses.
public func uniqueTopic(_ base: String = "t") -> TopicName {
    TopicName("\(base)-\(UInt32.random(in: 0...UInt32.max))")
}

/// A condition a test waited for did not come about in time.
public struct DeadlinePassed: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

extension KafkaConsumer {
    /// Reads until `count` records arrived, failing when `deadline` passes first (a condition
    /// wait with a deadline, not a sleep).
    public func read(_ count: Int, within deadline: Duration = .seconds(45)) async throws -> [KafkaRecord] {
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

/// Polls `condition` until it holds, throwing ``DeadlinePassed`` when `deadline` passes first.
/// Deadlines are generous: a full `swift test` run can keep both cores busy for tens of seconds.
public func eventually(
    within deadline: Duration = .seconds(45), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: deadline)
    while clock.now < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw DeadlinePassed(description: "\(what) did not happen within \(deadline)")
}
