import Consensus
import Foundation
import KafkaClient
import Mirror
import Orchestrator
import Sites
import TestSupport
import Testing

/// A failback dc-b → dc-a after a failover: the group read dc-a's records at dc-b from their
/// copies (`dc-a.orders`, mirrored and reconciled) past where its commit at dc-a stopped when
/// dc-a failed. Bringing its positions home commits at dc-a right after the last record it
/// read, so nothing is delivered twice there; never backwards. Two LocalKafka brokers.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HomePositionsTests {
    static let group = KafkaClient.GroupID("orders-app")

    func commit(_ offset: Int64, _ topic: String, at site: SiteID, in lab: FencingLab) async throws {
        let partition = KafkaClient.TopicPartition(KafkaClient.TopicName(topic), 0)
        for (_, outcome) in try await lab.admin(site).alterCommittedOffsets(group: Self.group, nextOffsets: [partition: KafkaClient.Offset(offset)]) {
            try outcome.get()
        }
    }

    func committed(_ topic: String, at site: SiteID, in lab: FencingLab) async throws -> Int64? {
        let partition = KafkaClient.TopicPartition(KafkaClient.TopicName(topic), 0)
        return try await lab.admin(site).committedOffsets(group: Self.group, partitions: [partition])[partition]?.rawValue
    }

    @Test("the group resumes at dc-a after the last mirrored or reconciled copy it read at dc-b, never before its own commit")
    func positionsOnCopiesComeHome() async throws {
        try await withFencingLab { lab in
            // dc-a took 10 records per partition, all mirrored, then 2 more in partition 0 it
            // never mirrored before it failed; reconcile copied those to dc-b when it returned.
            let forward = try await ReconcilerTests.failedOver(lab, policy: .prefix, mirrored: 10, tail: [0: 2])
            let reconciled = try await Reconciler(flow: forward, state: lab.state(), logger: FencingLab.logger).reconcile(epoch: ReconcilerTests.epoch)
            #expect(reconciled.recoveredCount == 2)
            // At dc-a the group had read 6 of partition 0 when dc-a failed; at dc-b it read
            // every copy, the reconciled two included (dc-a.orders/0 holds 10 + 2).
            try await commit(6, "orders", at: FencingLab.a, in: lab)
            try await commit(12, "dc-a.orders", at: FencingLab.b, in: lab)
            let home = HomePositions(homeFlow: forward, logger: FencingLab.logger)

            let planned = try await home.bringHome(dryRun: true)
            #expect(planned.map(\.description) == ["orders-app orders[0] 6 → 12"], "\(planned)")
            #expect(try await committed("orders", at: FencingLab.a, in: lab) == 6, "a dry run commits nothing")

            let moved = try await home.bringHome(dryRun: false)
            #expect(moved == planned)
            #expect(try await committed("orders", at: FencingLab.a, in: lab) == 12)

            #expect(try await home.bringHome(dryRun: false).isEmpty, "brought home once; nothing moves again")
            try await commit(13, "orders", at: FencingLab.a, in: lab)
            #expect(try await home.bringHome(dryRun: false).isEmpty, "a commit at dc-a ahead of the copies is not moved back")
            #expect(try await committed("orders", at: FencingLab.a, in: lab) == 13)
        }
    }
}
