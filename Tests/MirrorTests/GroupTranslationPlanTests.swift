import Testing

@testable import Mirror

@Suite("Group translation plan")
struct GroupTranslationPlanTests {
    let naming = TopicNaming(policy: .prefix, knownSites: [dcA, dcB])

    /// Flow dc-a→dc-b: orders/0 100 records with a marker at 50; orders/1 10 records;
    /// orders/2 mirrored from source offset 100 on; orders/3 nothing; audit/0 mapped but not selected.
    func map() throws -> OffsetMap {
        var map = OffsetMap(flow: FlowID(from: dcA, to: dcB))
        for s in Int64(0)..<101 where s != 50 { try map.record(tp("orders", 0), sourceOffset: Offset(s), targetOffset: Offset(s < 50 ? s : s - 1)) }
        for s in Int64(0)..<10 { try map.record(tp("orders", 1), sourceOffset: Offset(s), targetOffset: Offset(s)) }
        for s in Int64(100)..<110 { try map.record(tp("orders", 2), sourceOffset: Offset(s), targetOffset: Offset(s - 100)) }
        try map.record(tp("audit", 0), sourceOffset: 0, targetOffset: 0)
        return map
    }

    func plan(_ committed: [TopicPartition: Offset?], group name: String = "billing", direction: TranslationDirection = .failover,
              active: Bool = false, groups: GroupSelection? = nil) throws -> GroupTranslationPlan {
        GroupTranslationPlan(
            offsets: GroupOffsets(group: group(name), committed: committed), direction: direction, map: try map(), naming: naming,
            topics: try TopicSelection(include: [".*"], exclude: ["audit"]),
            groups: try groups ?? GroupSelection(include: [".*"], exclude: ["console-consumer-.*"]),
            activeMembersAtDestination: active)
    }

    func action(_ plan: GroupTranslationPlan, _ partition: TopicPartition) -> GroupTranslationEntry.Action? {
        plan.entries.first { $0.partition == partition }?.action
    }

    @Test("failover: every outcome, one partition each")
    func failoverOutcomes() throws {
        let plan = try plan([
            tp("orders", 0): 60, tp("orders", 1): 15, tp("orders", 2): 20, tp("orders", 3): 5, tp("orders", 4): nil,
            tp("orders", 5): Offset(-1), tp("audit", 0): 0, tp("dc-b.orders", 0): 3, tp("__consumer_offsets", 0): 1,
        ])
        #expect(action(plan, tp("orders", 0)) == .commit(partition: tp("dc-a.orders", 0), offset: 59))
        // Beyond the mirrored data: the end of it, with the records at risk reported.
        #expect(action(plan, tp("orders", 1)) == .commit(partition: tp("dc-a.orders", 1), offset: 10))
        #expect(plan.entries.first { $0.partition == tp("orders", 1) }?.translation == .beyondMirrored(lastCopied: 9, recordsAtRisk: 5))
        #expect(action(plan, tp("orders", 2)) == .skip(.beforeMapped(firstMapped: 100)))
        #expect(action(plan, tp("orders", 3)) == .skip(.partitionNotMirrored))
        #expect(action(plan, tp("orders", 4)) == .skip(.noCommittedOffset))
        #expect(action(plan, tp("orders", 5)) == .skip(.noCommittedOffset))
        #expect(action(plan, tp("audit", 0)) == .skip(.topicNotSelected(.excluded(pattern: "audit"))))
        #expect(action(plan, tp("dc-b.orders", 0)) == .skip(.topicNotMirrored(.cameFromTarget(dcB))))
        #expect(action(plan, tp("__consumer_offsets", 0)) == .skip(.topicNotSelected(.internalName)))
        #expect(plan.commits == [tp("dc-a.orders", 0): 59, tp("dc-a.orders", 1): 10])
        #expect(plan.clears == [tp("dc-a.orders", 4), tp("dc-a.orders", 5)])
        #expect(plan.recordsAtRisk == 5)
        #expect(plan.entries.map(\.partition) == plan.entries.map(\.partition).sorted())
    }

    @Test("failover: a position in a gap and a caught-up position commit exactly")
    func gapAndCaughtUp() throws {
        let plan = try plan([tp("orders", 0): 50, tp("orders", 1): 10])
        #expect(action(plan, tp("orders", 0)) == .commit(partition: tp("dc-a.orders", 0), offset: 50))
        #expect(action(plan, tp("orders", 1)) == .commit(partition: tp("dc-a.orders", 1), offset: 10))
        #expect(plan.entries.last?.translation == .caughtUp(10))
    }

    @Test("a group with active members at the destination is skipped entirely")
    func activeGroup() throws {
        let plan = try plan([tp("orders", 0): 60, tp("orders", 1): 5], active: true)
        #expect(plan.entries.allSatisfy { $0.action == .skip(.groupActiveAtDestination) })
        #expect(plan.commits.isEmpty)
    }

    @Test("a group that is not selected is skipped entirely, with the selection's reason")
    func unselectedGroup() throws {
        let excluded = try plan([tp("orders", 0): 60], group: "console-consumer-1")
        #expect(action(excluded, tp("orders", 0)) == .skip(.groupNotSelected(.excluded(pattern: "console-consumer-.*"))))
        let internalGroup = try plan([tp("orders", 0): 60], group: "__switchback-mirror")
        #expect(action(internalGroup, tp("orders", 0)) == .skip(.groupNotSelected(.internalName)))
    }

    @Test("failback: target-side offsets map back through the same ranges")
    func failback() throws {
        let plan = try plan([
            tp("dc-a.orders", 0): 49, tp("dc-a.orders", 1): 10, tp("dc-a.orders", 2): 12, tp("dc-a.orders", 3): 0,
            tp("orders", 0): 5, tp("dc-a.audit", 0): 0, tp("dc-a.orders", 4): nil,
        ], direction: .failback)
        #expect(action(plan, tp("dc-a.orders", 0)) == .commit(partition: tp("orders", 0), offset: 49))
        #expect(action(plan, tp("dc-a.orders", 1)) == .commit(partition: tp("orders", 1), offset: 10))
        // Past the last copy (local records under identity): the source's mirrored end.
        #expect(action(plan, tp("dc-a.orders", 2)) == .commit(partition: tp("orders", 2), offset: 110))
        #expect(plan.recordsAtRisk == 2)
        #expect(plan.clears == [tp("orders", 4)])
        #expect(action(plan, tp("dc-a.orders", 3)) == .skip(.partitionNotMirrored))
        #expect(action(plan, tp("orders", 0)) == .skip(.notAMirrorTopic))
        #expect(action(plan, tp("dc-a.audit", 0)) == .skip(.topicNotSelected(.excluded(pattern: "audit"))))
        #expect(action(plan, tp("dc-a.orders", 4)) == .skip(.noCommittedOffset))
        #expect(plan.destinationSite == dcA)
        #expect(plan.originSite == dcB)
        // Failover then failback returns to the same position.
        let there = try self.plan([tp("orders", 0): 77])
        guard case .commit(let targetPartition, let offset) = action(there, tp("orders", 0)) else {
            Issue.record("no commit")
            return
        }
        let back = try self.plan([targetPartition: offset], direction: .failback)
        #expect(action(back, targetPartition) == .commit(partition: tp("orders", 0), offset: 77))
    }

    @Test("exact commits only: in a move back, the old direction keeps exact and caught-up positions and leaves the rest to the newer one")
    func exactCommitsOnly() throws {
        let plan = try plan([
            tp("dc-a.orders", 0): 49, tp("dc-a.orders", 1): 10, tp("dc-a.orders", 2): 12, tp("dc-a.orders", 4): nil, tp("orders", 0): 5,
        ], direction: .failback).exactCommitsOnly()
        #expect(action(plan, tp("dc-a.orders", 0)) == .commit(partition: tp("orders", 0), offset: 49))
        #expect(action(plan, tp("dc-a.orders", 1)) == .commit(partition: tp("orders", 1), offset: 10), "caught up: exact")
        // Past the last copy: the full plan commits the mirrored end; this one leaves it alone.
        #expect(action(plan, tp("dc-a.orders", 2)) == .skip(.pastTheOldDirection))
        // No commit at the origin: the full plan clears the destination; this one does not.
        #expect(action(plan, tp("dc-a.orders", 4)) == .skip(.pastTheOldDirection))
        #expect(plan.clears.isEmpty)
        #expect(action(plan, tp("orders", 0)) == .skip(.notAMirrorTopic))
        #expect(plan.commits == [tp("orders", 0): 49, tp("orders", 1): 10])
        #expect(plan.description.contains("past what the old direction copied; the newer direction positions it"))
    }

    @Test("exact commits only never move a group back: a commit at the destination further on is kept")
    func exactCommitsOnlyKeepsWhatTheDestinationReadFurther() throws {
        let plan = try plan([tp("dc-a.orders", 0): 49, tp("dc-a.orders", 1): 10], direction: .failback)
            .exactCommitsOnly(keeping: [tp("orders", 0): 60, tp("orders", 1): 3])
        // The group read orders/0 to 60 at dc-a before an unplanned failover; 49 is where its copies end.
        #expect(action(plan, tp("dc-a.orders", 0)) == .skip(.destinationAhead(committed: 60)))
        #expect(action(plan, tp("dc-a.orders", 1)) == .commit(partition: tp("orders", 1), offset: 10))
    }

    @Test("the report prints one line per partition and flags data at risk")
    func report() throws {
        let plan = try plan([tp("orders", 0): 101, tp("orders", 1): 15, tp("orders", 4): nil])
        #expect(plan.description == """
            group billing: failover dc-a → dc-b: 2 to commit, 1 skipped — DATA AT RISK: 5 record(s)
              orders/0  committed 101 → commit dc-a.orders/0 at 100 (caught up)
              orders/1  committed 15 → commit dc-a.orders/1 at 10 (end of the mirrored data, last copied 9; DATA AT RISK: 5 record(s))
              orders/4  no commit → skip: no committed offset (any commit there is removed)
            """)
    }
}

@Suite("Translation report")
struct TranslationReportTests {
    @Test("totals over groups, sorted, with data at risk named")
    func totals() throws {
        let outer = GroupTranslationPlanTests()
        let billing = try outer.plan([tp("orders", 0): 60, tp("orders", 1): 15], group: "billing")
        let audit = try outer.plan([tp("orders", 0): 10, tp("orders", 4): nil], group: "analytics")
        let report = TranslationReport(plans: [billing, audit])
        #expect(report.plans.map(\.group) == [group("analytics"), group("billing")])
        #expect(report.commitCount == 3)
        #expect(report.skipCount == 1)
        #expect(report.recordsAtRisk == 5)
        #expect(report.groupsWithDataAtRisk == [group("billing")])
        #expect(report.description.hasPrefix("2 group(s): 3 partition(s) to commit, 1 skipped — DATA AT RISK: 5 record(s) in billing\n\ngroup analytics:"))
    }
}
