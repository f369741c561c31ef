import Foundation
import KafkaClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

#if os(Linux)
// Linux only: the broker runs as a child process (see `BrokerProcess`) and is killed with SIGKILL.

/// A transaction left open when the broker dies must not hold the last stable offset back
/// forever: on restart LocalKafka aborts it (writes abort markers), so read_committed consumers
/// move on past it and never see its records. Real `switchback broker` processes; librdkafka
/// clients over TCP.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TransactionRecoveryTests {
    static let topic: TopicName = "txn-recovery"

    static func consumer(_ bootstrap: String, isolation: KafkaConsumerConfiguration.IsolationLevel) throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap])
        configuration.client.logLevel = .critical
        configuration.isolationLevel = isolation
        return try KafkaConsumer(configuration: configuration, logger: KafkaClientSupport.quietLogger)
    }

    /// Reads partition 0 from the start until the consumer's position reaches `end`.
    static func values(_ bootstrap: String, isolation: KafkaConsumerConfiguration.IsolationLevel, upTo end: Offset) async throws -> [String] {
        let consumer = try consumer(bootstrap, isolation: isolation)
        let partition = TopicPartition(topic, 0)
        try await consumer.assign([partition: .earliest])
        var values: [String] = []
        let deadline = ContinuousClock.now + .seconds(45)
        var reachedEnd = false
        while ContinuousClock.now < deadline, !reachedEnd {
            let batch = try await consumer.nextBatch()
            values += batch.records.compactMap(\.valueString)
            reachedEnd = (batch.positions[partition] ?? 0) >= end
        }
        await consumer.close()
        #expect(reachedEnd, "the \(isolation) consumer did not reach offset \(end)")
        return values
    }

    @Test(arguments: [SIGKILL, SIGTERM])
    func aTransactionOpenAtShutdownIsAbortedOnRestart(signal: Int32) async throws {
        try await withTemporaryDirectory(prefix: "txn-recovery") { directory in
            let data = directory.appendingPathComponent("data")
            let first = try await BrokerProcess.start(dataDirectory: data)
            defer { first.ensureStopped() }
            let admin = try KafkaClientSupport.admin(first.bootstrapServers)
            try await admin.createTopics([NewTopic(name: Self.topic, partitions: 1)])[Self.topic]?.get()

            var configuration = KafkaProducerConfiguration(client: KafkaClientSupport.clientConfiguration(first.bootstrapServers))
            configuration.transactionalID = "txn-recovery"
            configuration.linger = .milliseconds(1)
            let producer = try KafkaProducer(configuration: configuration, logger: KafkaClientSupport.quietLogger)
            try await producer.initTransactions()
            try producer.beginTransaction()
            _ = try await producer.send([ProducerRecord(topic: Self.topic, partition: 0, value: "committed")])
            try await producer.commitTransaction()
            try producer.beginTransaction()
            _ = try await producer.send([ProducerRecord(topic: Self.topic, partition: 0, value: "open-1"),
                                         ProducerRecord(topic: Self.topic, partition: 0, value: "open-2")])

            // Open transaction at offsets 2-3: read_committed ends (ListOffsets latest) at 2,
            // before the transaction; the high watermark is 4.
            let partition = TopicPartition(Self.topic, 0)
            let committedView = try Self.consumer(first.bootstrapServers, isolation: .readCommitted)
            #expect(try await committedView.endOffsets([partition])[partition] == 2)
            await committedView.close()
            let uncommittedView = try Self.consumer(first.bootstrapServers, isolation: .readUncommitted)
            #expect(try await uncommittedView.endOffsets([partition])[partition] == 4)
            await uncommittedView.close()

            await first.stop(with: signal)
            await producer.shutdown(timeout: .milliseconds(100))

            let second = try await BrokerProcess.start(dataDirectory: data)
            defer { second.ensureStopped() }
            // The restart wrote an abort marker at 4: everything is decided, the end is 5 for both views.
            let uncommittedAfter = try Self.consumer(second.bootstrapServers, isolation: .readUncommitted)
            #expect(try await uncommittedAfter.endOffsets([partition])[partition] == 5)
            await uncommittedAfter.close()
            let committedAfter = try Self.consumer(second.bootstrapServers, isolation: .readCommitted)
            #expect(try await committedAfter.endOffsets([partition])[partition] == 5)
            await committedAfter.close()
            #expect(try await Self.values(second.bootstrapServers, isolation: .readCommitted, upTo: 5) == ["committed"])
            #expect(try await Self.values(second.bootstrapServers, isolation: .readUncommitted, upTo: 5) == ["committed", "open-1", "open-2"])

            // The transactional id keeps its producer id, and a new instance can go on at once.
            var again = configuration
            again.client = KafkaClientSupport.clientConfiguration(second.bootstrapServers)
            let next = try KafkaProducer(configuration: again, logger: KafkaClientSupport.quietLogger)
            try await next.initTransactions()
            try next.beginTransaction()
            _ = try await next.send([ProducerRecord(topic: Self.topic, partition: 0, value: "after-restart")])
            try await next.commitTransaction()
            await next.shutdown()
            #expect(try await Self.values(second.bootstrapServers, isolation: .readCommitted, upTo: 7) == ["committed", "after-restart"])
            await second.stop(with: SIGTERM)
            #expect(second.log.contains("aborted or completed transactions left open by the previous run"), "\(second.log)")
        }
    }
}
#endif
