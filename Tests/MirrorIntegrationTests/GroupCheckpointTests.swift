import Foundation
import KafkaClient
import Metrics
import MetricsTestKit
import Mirror
import Synchronization
import TestSupport
import Testing

/// A wall clock the test moves by hand.
final class TestWallClock: Sendable {
    private let time: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { time = Mutex(start) }
    var now: Date { time.withLock { $0 } }
    func advance(by seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The Mirror group `name` (test literals, known valid).
func mirrorGroup(_ name: String) -> MirrorGroupID {
    guard let group = MirrorGroupID(rawValue: name) else { fatalError("test fixture: invalid group \(name)") }
    return group
}

/// Committed offsets of `group` on `topic` at `bootstrap`, per partition (absent: no commit).
func committedOffsets(group: String, topic: String, partitions: Int32, on bootstrap: String) async throws -> [Int32: Int64] {
    let all = (0..<partitions).map { KafkaClient.TopicPartition(KafkaClient.TopicName(topic), KafkaClient.Partition($0)) }
    var result: [Int32: Int64] = [:]
    for (partition, offset) in try await admin(bootstrap).committedOffsets(group: GroupID(group), partitions: all) {
        result[partition.partition.rawValue] = offset.rawValue
    }
    return result
}

/// Copies what `orders` holds at dc-a to dc-b with a running flow; returns the flow (still
/// running, its map covering `count` records per partition) and its task.
func runFlowUntilCopied(
    _ configuration: FlowConfiguration, partitions: Int32, perPartition count: Int64
) async throws -> (Flow, Task<Void, any Error>) {
    let flow = Flow(configuration: configuration, logger: quietLogger)
    let running = start(flow)
    try await waitUntil("the flow's live map covers every record") {
        guard let map = flow.offsetMapSnapshot() else { return false }
        return (0..<partitions).allSatisfy { map[mirrorPartition("orders", $0)].accountedEnd.rawValue >= count }
    }
    return (flow, running)
}

@Suite("Group checkpoints position groups at the target without the source", .timeLimit(.minutes(2)))
struct GroupCheckpointTests {
    @Test("a checkpoint round stores exact translations (topic and file), commits idle target groups, and sets the age gauge")
    func checkpointRound() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 200, partitions: 2), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let (flow, running) = try await runFlowUntilCopied(configuration, partitions: 2, perPartition: 100)
            try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: 60, 1: 100], on: sites.brokerA)
            try await GroupTranslationTests.commit(group: "audit", topic: "orders", [0: 10], on: sites.brokerA)

            let clock = TestWallClock()
            let metrics = TestMetrics()
            let checkpointer = GroupCheckpointer(flow: flow, logger: quietLogger, metricsFactory: metrics, now: { clock.now })
            let round = try await checkpointer.checkpointNow()
            #expect(round.groupErrors.isEmpty)
            let billing = try #require(round.checkpoints.first { $0.group.rawValue == "billing" })
            #expect(billing.source == [mirrorPartition("orders", 0): 60, mirrorPartition("orders", 1): 100])
            #expect(billing.target == [mirrorPartition("dc-a.orders", 0): 60, mirrorPartition("dc-a.orders", 1): 100])
            #expect(billing.readAt == clock.now)
            #expect(Set(round.committed.map(\.rawValue)) == ["audit", "billing"])

            // Committed at the target, where the groups have no members.
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 2, on: sites.brokerB) == [0: 60, 1: 100])
            #expect(try await committedOffsets(group: "audit", topic: "dc-a.orders", partitions: 2, on: sites.brokerB) == [0: 10])

            // Stored in both places, each readable alone.
            let store = GroupCheckpointStore(configuration: configuration, logger: quietLogger)
            #expect(try store.readFile()[billing.group] == billing)
            #expect(try await store.readTopic()[billing.group] == billing)

            let dimensions = [("flow", "dc-a->dc-b"), ("group", "billing")]
            #expect(try metrics.expectGauge(GroupCheckpointer.ageLabel, dimensions).lastValue == 0)

            // A restarted checkpointer that cannot take a round (no map yet) reports the stored
            // checkpoints' age, counting on from the file.
            clock.advance(by: 4)
            let restartedMetrics = TestMetrics()
            let restarted = GroupCheckpointer(
                configuration: configuration, offsetMap: { nil }, logger: quietLogger, metricsFactory: restartedMetrics, now: { clock.now })
            let service = Task { try await restarted.run() }
            try await waitUntil("the restarted checkpointer reports the age") {
                (try? restartedMetrics.expectGauge(GroupCheckpointer.ageLabel, dimensions).lastValue) == 4
            }
            service.cancel()
            try await service.value

            try await flow.drain()
            try await running.value
        }
    }

    @Test("with the source unreachable, checkpoints alone position the groups; stale ones are reported, not committed")
    func translateWithSourceDown() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 200, partitions: 2), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let (flow, running) = try await runFlowUntilCopied(configuration, partitions: 2, perPartition: 100)
            try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: 60, 1: 99], on: sites.brokerA)
            let clock = TestWallClock()
            _ = try await GroupCheckpointer(flow: flow, logger: quietLogger, now: { clock.now }).checkpointNow()
            try await flow.drain()
            try await running.value

            // The target's group drifted since (a consumer there, a hand reset): translation must set it.
            try await GroupTranslationTests.commit(group: "billing", topic: "dc-a.orders", [0: 3, 1: 4], on: sites.brokerB)
            var down = configuration
            down.source.bootstrapServers = ["127.0.0.1:\(try freeLoopbackPort())"]
            clock.advance(by: 12)
            let service = OffsetTranslationService(configuration: down, logger: quietLogger, now: { clock.now })

            let stale = try await service.translateFromCheckpoints(dryRun: false, maxAge: .seconds(10))
            #expect(stale.staleCheckpoints == [mirrorGroup("billing"): .seconds(12)])
            #expect(stale.committedCount == 0)
            #expect(stale.description.contains("STALE CHECKPOINT billing"))
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 2, on: sites.brokerB) == [0: 3, 1: 4])

            let dry = try await service.translateFromCheckpoints(dryRun: true, maxAge: .seconds(30))
            #expect(dry.report.commitCount == 2)
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 2, on: sites.brokerB) == [0: 3, 1: 4])

            let result = try await service.translateFromCheckpoints(dryRun: false, maxAge: .seconds(30), groups: [mirrorGroup("billing")])
            #expect(result.committedCount == 2, "\(result)")
            #expect(result.checkpointAges == [mirrorGroup("billing"): .seconds(12)])
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 2, on: sites.brokerB) == [0: 60, 1: 99])

            let unknown = try await service.translateFromCheckpoints(dryRun: true, maxAge: nil, groups: [mirrorGroup("nobody")])
            #expect(unknown.groupErrors[mirrorGroup("nobody")]?.contains("no checkpoint") == true)
        }
    }

    @Test("a checkpoint taken while the flow's map lacks a new topic still holds the group's position there; the failover translates it with the map as it is then")
    func checkpointCoversTopicsNotYetMapped() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 50, partitions: 1), to: sites.brokerA)
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            configuration.provisioningInterval = .milliseconds(100)
            let (flow, running) = try await runFlowUntilCopied(configuration, partitions: 1, perPartition: 50)
            // The map as a checkpoint round saw it just before the flow started copying `payments`.
            let beforePayments = try #require(flow.offsetMapSnapshot())
            try await createTopic("payments", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "payments", count: 40, partitions: 1), to: sites.brokerA)
            try await waitUntil("the flow copies payments") {
                flow.offsetMapSnapshot()?[mirrorPartition("payments", 0)].accountedEnd.rawValue ?? 0 >= 40
            }
            try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: 30], on: sites.brokerA)
            try await GroupTranslationTests.commit(group: "billing", topic: "payments", [0: 25], on: sites.brokerA)

            let round = try await GroupCheckpointer(configuration: configuration, offsetMap: { beforePayments }, logger: quietLogger).checkpointNow()
            let billing = try #require(round.checkpoints.first { $0.group.rawValue == "billing" })
            #expect(billing.source == [mirrorPartition("orders", 0): 30, mirrorPartition("payments", 0): 25])
            try await flow.drain()
            try await running.value

            // dc-a gone; the group at dc-b resumes payments where it was, not from the start.
            var down = configuration
            down.source.bootstrapServers = ["127.0.0.1:\(try freeLoopbackPort())"]
            let result = try await OffsetTranslationService(configuration: down, logger: quietLogger).translateFromCheckpoints(dryRun: false, maxAge: nil)
            #expect(result.commitFailures.isEmpty && result.groupErrors.isEmpty, "\(result)")
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.payments", partitions: 1, on: sites.brokerB) == [0: 25], "\(result)")
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 1, on: sites.brokerB) == [0: 30])
        }
    }

    @Test("the checkpointer leaves a group alone at the target while it has members there")
    func activeGroupAtTargetNotCommitted() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 50, partitions: 1), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let (flow, running) = try await runFlowUntilCopied(configuration, partitions: 1, perPartition: 50)
            try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: 40], on: sites.brokerA)
            // A member of billing at dc-b, subscribed and holding its assignment.
            var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: [sites.brokerB], groupID: GroupID("billing"))
            consumerConfiguration.client.logLevel = .error
            consumerConfiguration.autoCommit = false
            let member = try KafkaConsumer(configuration: consumerConfiguration, logger: quietLogger)
            try member.subscribe([KafkaClient.TopicName("dc-a.orders")])
            try await waitUntil("the member at dc-b has joined") {
                _ = try? await member.nextBatch()
                return (try? member.assignment().isEmpty == false) ?? false
            }
            let round = try await GroupCheckpointer(flow: flow, logger: quietLogger).checkpointNow()
            #expect(round.checkpoints.map(\.group.rawValue) == ["billing"])
            #expect(round.committed.isEmpty)
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 1, on: sites.brokerB).isEmpty)
            await member.close()
            try await flow.drain()
            try await running.value
        }
    }

    @Test("a retired checkpointer stores and commits nothing: the flow's stop does not wait for rounds blocked on the source")
    func retiredWritesNothing() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 50, partitions: 1), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let (flow, running) = try await runFlowUntilCopied(configuration, partitions: 1, perPartition: 50)
            try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: 40], on: sites.brokerA)
            let checkpointer = GroupCheckpointer(flow: flow, logger: quietLogger)
            checkpointer.retire()
            let round = try await checkpointer.checkpointNow()
            #expect(!checkpointer.isWriting)
            #expect(checkpointer.latest.isEmpty, "nothing stored: \(round.checkpoints)")
            #expect(round.committed.isEmpty)
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 1, on: sites.brokerB).isEmpty)
            // A checkpointer that is not retired does both.
            let working = try await GroupCheckpointer(flow: flow, logger: quietLogger).checkpointNow()
            #expect(working.committed.map(\.rawValue) == ["billing"])
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 1, on: sites.brokerB) == [0: 40])
            try await flow.drain()
            try await running.value
        }
    }

    @Test("the running service checkpoints every interval until shut down")
    func runsEveryInterval() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 30, partitions: 1), to: sites.brokerA)
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            configuration.checkpointInterval = .milliseconds(50)
            let (flow, running) = try await runFlowUntilCopied(configuration, partitions: 1, perPartition: 30)
            let checkpointer = GroupCheckpointer(flow: flow, logger: quietLogger)
            let service = Task { try await checkpointer.run() }
            for offset in [Int64(5), 17, 30] {
                try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: offset], on: sites.brokerA)
                let expected: [Int32: Int64] = [0: offset]
                try await waitUntil("the checkpoint follows the commit to \(offset)") {
                    let committed = try? await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 1, on: sites.brokerB)
                    return checkpointer.latest[mirrorGroup("billing")]?.target[mirrorPartition("dc-a.orders", 0)]?.rawValue == offset
                        && committed == expected
                }
            }
            service.cancel()
            try await service.value
            try await flow.drain()
            try await running.value
        }
    }
}
