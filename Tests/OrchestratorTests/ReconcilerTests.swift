import Consensus
import Foundation
import KafkaClient
import LocalKafka
import Mirror
import Orchestrator
import Sites
import Testing

/// A flow dc-a → dc-b stopped mid-way, more records at dc-a, dc-a fenced: reconcile copies
/// exactly the unmirrored tail to dc-b, once, with provenance and `switchback-recovered`.
@Suite(.serialized, .timeLimit(.minutes(4))) struct ReconcilerTests {
    static let epoch = Epoch(1)

    /// Mirrors `mirrored` records per partition of `orders` (2 partitions), then produces the
    /// tail at dc-a and fences it. Returns the forward flow's configuration.
    static func failedOver(_ lab: FencingLab, policy: NamingPolicy, mirrored: Int = 20, tail: [Int32: Int]) async throws -> FlowConfiguration {
        try await lab.createTopic("orders", partitions: 2, at: FencingLab.a)
        for partition: Int32 in [0, 1] {
            try await lab.produce((0..<mirrored).map { "m-\(partition)-\($0)" }, to: "orders", partition: partition, at: FencingLab.a)
        }
        let configuration = try lab.flow(from: FencingLab.a, to: FencingLab.b, policy: policy)
        let flow = Flow(configuration: configuration, logger: FencingLab.logger)
        let running = Task { try await flow.run() }
        try await flow.drain()
        try await running.value
        for (partition, count) in tail {
            try await lab.produce((0..<count).map { "tail-\(partition)-\($0)" }, to: "orders", partition: partition, at: FencingLab.a)
        }
        try await lab.fence(policy: policy).fence(site: lab.endpoint(FencingLab.a), epoch: epoch)
        // After the fence only leader-acknowledged writes land; they are past the fence's end.
        try await lab.produce(["after-fence"], to: "orders", at: FencingLab.a, acks: .leader)
        return configuration
    }

    static func recovered(_ records: [KafkaRecord]) -> [KafkaRecord] {
        records.filter { $0.header(Reconciler.recoveredKey) != nil }
    }

    @Test(arguments: [NamingPolicy.prefix, .identity])
    func copiesExactlyTheUnmirroredTailOnce(policy: NamingPolicy) async throws {
        try await withFencingLab { lab in
            let configuration = try await Self.failedOver(lab, policy: policy, tail: [0: 7, 1: 5])
            let target = policy == .prefix ? "dc-a.orders" : "orders"
            if policy == .identity {
                // dc-b's own producers write the shared topic after the failover.
                try await lab.produce(["local-0", "local-1", "local-2"], to: "orders", at: FencingLab.b)
            }
            let reconciler = Reconciler(flow: configuration, state: lab.state(), logger: FencingLab.logger)

            let plan = try await reconciler.plan(epoch: Self.epoch)
            #expect(plan.dryRun && plan.recoveredCount == 12)
            #expect(Self.recovered(try await lab.records(target, at: FencingLab.b)).isEmpty, "the plan copied records")

            let report = try await reconciler.reconcile(epoch: Self.epoch)
            let byPartition = Dictionary(uniqueKeysWithValues: report.partitions.map { ($0.partition, $0) })
            #expect(report.recoveredCount == 12)
            #expect(byPartition[0]?.count == 7 && byPartition[0]?.firstSourceOffset == 20 && byPartition[0]?.lastSourceOffset == 26)
            #expect(byPartition[1]?.count == 5 && byPartition[1]?.firstSourceOffset == 20 && byPartition[1]?.lastSourceOffset == 24)
            #expect(byPartition[0]?.targetTopic == target)

            for (partition, count) in [(Int32(0), 7), (Int32(1), 5)] {
                let records = try await lab.records(target, partition: partition, at: FencingLab.b)
                let copies = Self.recovered(records)
                #expect(copies.map(\.valueString) == (0..<count).map { "tail-\(partition)-\($0)" })
                #expect(copies.map { $0.header(Provenance.sourceKey) } == (0..<count).map { "dc-a/orders/\(partition)/\(20 + $0)" })
                #expect(copies.allSatisfy { $0.header(Provenance.originKey) == "dc-a" && $0.header(Reconciler.recoveredKey) == "1" })
                #expect(copies.allSatisfy { $0.header("app") == $0.valueString && $0.keyString == "k-\($0.valueString ?? "")" })
                // Every source record is at the target exactly once; the acks=1 write after the fence is not.
                let fromA = records.compactMap { $0.header(Provenance.sourceKey) }
                #expect(fromA.count == 20 + count && Set(fromA).count == fromA.count)
                #expect(!records.contains { $0.valueString == "after-fence" })
            }

            let rerun = try await reconciler.reconcile(epoch: Self.epoch)
            #expect(rerun.recoveredCount == 0)
            #expect(rerun.partitions.map(\.alreadyRecovered).sorted() == [5, 7])

            // With the offset map lost (cache file and topic), the target's headers still tell.
            try FileManager.default.removeItem(atPath: configuration.offsetMapFilePath)
            for (_, result) in try await lab.admin(FencingLab.b).deleteTopics([KafkaClient.TopicName(configuration.offsetMapTopic.rawValue)]) {
                try result.get()
            }
            #expect(try await reconciler.reconcile(epoch: Self.epoch).recoveredCount == 0)
            #expect(Self.recovered(try await lab.records(target, at: FencingLab.b)).count == 7)
        }
    }

    /// Interrupted at an arbitrary point (cancelled mid-copy, dropping what was not yet sent,
    /// as a killed agent would) and run again: every tail record arrives exactly once.
    @Test func anInterruptedReconcileRerunCopiesTheRestOnce() async throws {
        try await withFencingLab { lab in
            let tail = 300
            let configuration = try await Self.failedOver(lab, policy: .prefix, mirrored: 10, tail: [0: tail])
            lab.faults[FencingLab.b]!.inject(.latency(.milliseconds(30), api: .produce))
            let slow = Reconciler(flow: configuration, state: lab.state(), batchSize: 10, logger: FencingLab.logger)
            let interrupted = Task { try await slow.reconcile(epoch: Self.epoch) }
            let partition = KafkaClient.TopicPartition("dc-a.orders", 0)
            try await eventually("part of the tail is copied") {
                try await lab.admin(FencingLab.b).watermarks(of: partition).high.rawValue >= 10 + 40
            }
            interrupted.cancel()
            let outcome = await interrupted.result
            lab.faults[FencingLab.b]!.heal()
            #expect((outcome.error as? FencingError)?.code == .cancelled, "\(outcome)")
            let partial = Self.recovered(try await lab.records("dc-a.orders", at: FencingLab.b)).count
            #expect(partial >= 40 && partial < tail, "interrupted after \(partial) of \(tail)")

            let rerun = try await Reconciler(flow: configuration, state: lab.state(), logger: FencingLab.logger).reconcile(epoch: Self.epoch)
            #expect(rerun.recoveredCount == tail - partial)
            #expect(rerun.partitions.first { $0.partition == 0 }?.firstSourceOffset == Int64(10 + partial))
            let copies = Self.recovered(try await lab.records("dc-a.orders", at: FencingLab.b))
            #expect(copies.map(\.valueString) == (0..<tail).map { "tail-0-\($0)" })
        }
    }

    @Test func aNewerEpochStopsItAndAnUnfencedSiteIsRefused() async throws {
        try await withFencingLab { lab in
            try await lab.createTopic("orders", at: FencingLab.a)
            try await lab.createTopic("dc-a.orders", at: FencingLab.b)
            try await lab.produce(["x"], to: "orders", at: FencingLab.a)
            let configuration = try lab.flow(from: FencingLab.a, to: FencingLab.b, policy: .prefix)
            let reconciler = Reconciler(flow: configuration, state: lab.state(), logger: FencingLab.logger)
            do {
                _ = try await reconciler.reconcile(epoch: Self.epoch)
                Issue.record("reconciled an unfenced site")
            } catch let error as FencingError {
                #expect(error.code == .notFenced)
            }
            try await lab.fence().fence(site: lab.endpoint(FencingLab.a), epoch: Self.epoch)
            let newer = SiteConfig(epoch: Epoch(2), activeSite: FencingLab.a,
                                   mirrorDirection: MirrorDirection(from: FencingLab.a, to: FencingLab.b), cause: .operatorSwitchover)
            try await lab.state(FencingLab.a).record(newer, on: lab.endpoint(FencingLab.b))
            do {
                _ = try await reconciler.reconcile(epoch: Self.epoch)
                Issue.record("reconciled for a deposed epoch")
            } catch let error as FencingError {
                #expect(error.code == .staleEpoch && error.stale?.newest == Epoch(2))
            }
            #expect(try await lab.records("dc-a.orders", at: FencingLab.b).isEmpty)
        }
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
