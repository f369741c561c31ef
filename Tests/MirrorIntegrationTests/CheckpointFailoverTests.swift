import Foundation
import KafkaClient
import LocalKafka
import Mirror
import Synchronization
import TestSupport
import Testing

/// What the committing consumer at the source did: every commit it sent, with when.
final class CommitLog: Sendable {
    struct Entry: Sendable {
        var at: ContinuousClock.Instant
        /// Next offset to read per partition after this commit (all partitions so far).
        var offsets: [Int32: Int64]
        var total: Int64 { offsets.values.reduce(0, +) }
    }

    private let entries = Mutex<[Entry]>([])

    func append(_ offsets: [Int32: Int64]) { entries.withLock { $0.append(Entry(at: .now, offsets: offsets)) } }
    var all: [Entry] { entries.withLock { $0 } }
    var consumed: Int64 { entries.withLock { $0.last?.total ?? 0 } }
}

@Suite("Unplanned failover from checkpoints: the source broker is killed", .timeLimit(.minutes(3)))
struct CheckpointFailoverTests {
    static let rate = 1_000  // records per second, produced and consumed
    static let partitions: Int32 = 3

    @Test("SIGKILL of the source broker while a group commits at 1,000 records/s: checkpoints alone position the group; it re-reads at most one interval and skips nothing")
    func sourceBrokerKilled() async throws {
        try await withTemporaryDirectory(prefix: "checkpoint-failover") { directory in
            let brokerA = try await BrokerProcess.start(
                dataDirectory: directory.appendingPathComponent("kafka-a"), log: directory.appendingPathComponent("broker-a.log"))
            let brokerB = try await BrokerProcess.start(
                dataDirectory: directory.appendingPathComponent("kafka-b"), log: directory.appendingPathComponent("broker-b.log"))
            defer {
                brokerA.kill()
                brokerB.kill()
            }
            try await createTopic("orders", partitions: Self.partitions, on: brokerA.bootstrap)
            let sites = TwoSites(
                brokerA: brokerA.bootstrap, brokerB: brokerB.bootstrap, faultsA: FaultInjector(logger: quietLogger),
                faultsB: FaultInjector(logger: quietLogger), directory: directory)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let interval = configuration.checkpointInterval
            #expect(interval == .seconds(1))

            let flow = Flow(configuration: configuration, logger: quietLogger)
            let checkpointer = GroupCheckpointer(flow: flow, logger: quietLogger)
            let flowTask = start(flow)
            let checkpointTask = Task { try await checkpointer.run() }
            let bootstrapA = brokerA.bootstrap
            let producerTask = Task { try await Self.produce(to: bootstrapA) }
            let commits = CommitLog()
            let consumer = try Self.consumer(on: brokerA.bootstrap)
            let consumerTask = Task { try await Self.consume(consumer, log: commits) }

            // Steady state: several checkpoint rounds while the group reads and commits.
            try await waitUntil("the group has consumed 4,000 records and been checkpointed", timeout: .seconds(60)) {
                commits.consumed >= 4_000 && checkpointer.latest[mirrorGroup("billing")] != nil
            }
            print("checkpoint failover: steady state, \(commits.consumed) consumed; killing dc-a's broker (SIGKILL)")
            brokerA.kill()
            let killedAt = ContinuousClock.now
            producerTask.cancel()
            consumerTask.cancel()
            checkpointTask.cancel()
            flowTask.cancel()
            // Neither is waited for either (see the report of this change: waiting for them after
            // the source died did not return here); with the source gone neither can change what
            // is stored at dc-b: the checkpointer cannot read a new commit, the flow cannot copy.
            // The producer and the group's consumer wait on the dead broker (a send for its
            // delivery timeout, a poll or commit for its coordinator): they are not waited for;
            // the commit log already holds every commit the consumer sent.

            // The group's last commit at dc-a: at most the last one the consumer sent.
            let last = try #require(commits.all.last).offsets
            // dc-a is gone: translation reads only dc-b and the local file.
            let result = try await OffsetTranslationService(configuration: configuration, logger: quietLogger)
                .translateFromCheckpoints(dryRun: false, maxAge: configuration.checkpointMaxAge)
            #expect(result.staleCheckpoints.isEmpty && result.groupErrors.isEmpty && result.commitFailures.isEmpty, "\(result)")
            #expect(result.committedCount == Int(Self.partitions), "\(result)")

            // What dc-b holds of dc-a.orders (source offsets per partition), and what the group reads there.
            print("checkpoint failover: translated: \(result.committedCount) partition(s) committed")
            let mirrored = try await readAll("dc-a.orders", on: brokerB.bootstrap).mapValues { records in
                records.compactMap { sourcePosition(of: $0)?.offset.rawValue }
            }
            let read = try await GroupTranslationTests.readFromCommitted(
                group: "billing", topic: "dc-a.orders", partitions: Self.partitions, on: brokerB.bootstrap, copies: true)
            var reRead = 0
            for partition in 0..<Self.partitions {
                let committed = last[partition] ?? 0
                let readHere = Set(read[partition] ?? [])
                let notYetConsumed = (mirrored[partition] ?? []).filter { $0 >= committed }
                let skipped = notYetConsumed.filter { !readHere.contains($0) }
                #expect(skipped.isEmpty, "partition \(partition): \(skipped.count) record(s) after the last commit \(committed) not read at dc-b")
                reRead += readHere.filter { $0 < committed }.count
            }
            // The bound: what the group consumed in one interval, plus the time a round takes
            // (the checkpointer sleeps a full interval after each round, so two reads of the
            // source are one interval plus one round apart; a round here is an OffsetFetch at
            // dc-a, a produce at dc-b and an fsync, well under 500 ms even on a loaded machine).
            let windowStart = killedAt - interval - .milliseconds(500)
            let before = commits.all.last { $0.at <= windowStart }?.total ?? 0
            let consumedInWindow = commits.consumed - before
            print("checkpoint failover: consumed \(commits.consumed), re-read \(reRead), consumed in the last interval+500ms \(consumedInWindow), records at risk \(result.report.recordsAtRisk), checkpoint age at translation \(result.checkpointAges.values.first.map { "\($0)" } ?? "-")")
            #expect(reRead <= Int(consumedInWindow), "re-read \(reRead) > \(consumedInWindow) consumed in the last interval plus 500 ms")
            let readCount = read.values.reduce(0) { $0 + $1.count }
            #expect(readCount > 0, "the group read nothing at dc-b")
        }
    }

    /// Produces `rate` records a second to `orders`, round-robin over the partitions, until cancelled.
    static func produce(to bootstrap: String) async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: [bootstrap])
        configuration.client.logLevel = .error
        configuration.deliveryTimeout = .seconds(5)
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        defer { Task.detached { await producer.shutdown(timeout: .seconds(1)) } }
        let perTick = rate / 50
        var next = 0
        let clock = ContinuousClock()
        var tick = clock.now
        while !Task.isCancelled {
            let records = sampleRecords(topic: "orders", count: perTick, partitions: partitions, from: next)
            next += perTick
            _ = try await producer.send(records)
            tick = tick.advanced(by: .milliseconds(20))
            try await clock.sleep(until: tick)
        }
    }

    static func consumer(on bootstrap: String) throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap], groupID: GroupID("billing"))
        configuration.client.logLevel = .error
        configuration.autoCommit = false
        configuration.offsetReset = .earliest
        return try KafkaConsumer(configuration: configuration, logger: quietLogger)
    }

    /// Reads `orders` in group billing and commits after every batch, logging each commit sent.
    static func consume(_ consumer: KafkaConsumer, log: CommitLog) async throws {
        try consumer.subscribe([KafkaClient.TopicName("orders")])
        var positions: [Int32: Int64] = [:]
        while !Task.isCancelled {
            let batch = try await consumer.nextBatch()
            guard !batch.records.isEmpty else { continue }
            var request: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
            for record in batch.records {
                positions[record.partition.rawValue] = record.offset.rawValue + 1
                request[record.topicPartition] = record.offset.next
            }
            log.append(positions)
            try await consumer.commit(nextOffsets: request)
        }
    }
}
