import KafkaClient
import Logging

/// Client-side helpers for broker tests that speak to LocalKafka through KafkaClient
/// (librdkafka), as applications do.
enum KafkaClientSupport {
    struct DeadlineExceeded: Error, CustomStringConvertible {
        let what: String
        let limit: Duration
        var description: String { "\(what) did not finish within \(limit)" }
    }

    /// A logger that keeps librdkafka's expected complaints (a broker killed on purpose) out of
    /// the test output.
    static var quietLogger: Logger {
        var logger = Logger(label: "broker-test.client")
        logger.logLevel = .critical
        return logger
    }

    static func clientConfiguration(_ bootstrapServers: String) -> KafkaClientConfiguration {
        var configuration = KafkaClientConfiguration(bootstrapServers: [bootstrapServers])
        configuration.logLevel = .critical
        return configuration
    }

    static func admin(_ bootstrapServers: String) throws -> KafkaAdmin {
        try KafkaAdmin(configuration: clientConfiguration(bootstrapServers), logger: quietLogger)
    }

    static func producer(_ bootstrapServers: String, deliveryTimeout: Duration = .seconds(30)) throws -> KafkaProducer {
        let configuration = KafkaProducerConfiguration(
            client: clientConfiguration(bootstrapServers), linger: .milliseconds(2), deliveryTimeout: deliveryTimeout
        )
        return try KafkaProducer(configuration: configuration, logger: quietLogger)
    }

    /// Runs `body`, failing with `DeadlineExceeded` when it takes longer than `limit`.
    static func withDeadline<T: Sendable>(
        _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw DeadlineExceeded(what: what, limit: limit)
            }
            return value
        }
    }

    /// Every record of every partition of `topic`, from the log start to the log end as it is
    /// when the call starts, per partition in offset order.
    static func readAll(
        _ topic: TopicName, partitions: Int32, from bootstrapServers: String, limit: Duration = .seconds(60)
    ) async throws -> [Partition: [KafkaRecord]] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrapServers])
        configuration.client.logLevel = .critical
        let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
        let partitionList = (0..<partitions).map { TopicPartition(topic, Partition($0)) }
        let ends = try await consumer.endOffsets(partitionList)
        try await consumer.assign(Dictionary(uniqueKeysWithValues: partitionList.map { ($0, StartOffset.earliest) }))
        do {
            let records = try await withDeadline(limit, "reading \(topic) to its end \(ends)") {
                var byPartition: [Partition: [KafkaRecord]] = [:]
                var remaining = Set(partitionList.filter { (ends[$0]?.rawValue ?? 0) > 0 })
                guard !remaining.isEmpty else { return byPartition }
                for try await record in consumer.records {
                    byPartition[record.partition, default: []].append(record)
                    if let end = ends[record.topicPartition], record.offset.next >= end {
                        remaining.remove(record.topicPartition)
                        if remaining.isEmpty { break }
                    }
                }
                return byPartition
            }
            await consumer.close()
            return records
        } catch {
            await consumer.close()
            throw error
        }
    }
}
