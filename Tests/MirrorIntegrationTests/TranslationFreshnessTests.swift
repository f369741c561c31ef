import Foundation
import KafkaClient
import Mirror
import Testing

/// Translation uses what the target really holds, and leaves no stale position behind
/// (issue 10, items 6 and 7).
@Suite("Translation is current and leaves no stale commit", .timeLimit(.minutes(2)))
struct TranslationFreshnessTests {
    @Test("copies the flow made after its last map store translate exactly (the map is caught up from target headers)")
    func laggingMapIsCaughtUp() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 120, partitions: 2), to: sites.brokerA)
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            // The map is never stored while this flow runs, and cancelling it is a crash:
            // the stored map stays empty although every record is at the target.
            configuration.mapStoreInterval = .seconds(3600)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await waitUntil("every record is copied") {
                flow.status.positions.values.map(\.rawValue) == [60, 60]
            }
            running.cancel()
            _ = await running.result
            #expect(try await OffsetTranslationService(configuration: configuration, logger: quietLogger).loadOffsetMap().rangeCount == 0)

            try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: 60, 1: 25], on: sites.brokerA)
            let result = try await OffsetTranslationService(configuration: configuration, logger: quietLogger)
                .translate(direction: .failover, dryRun: false, groups: [mirrorGroup("billing")])
            #expect(result.report.recordsAtRisk == 0, "\(result)")
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 2, on: sites.brokerB) == [0: 60, 1: 25], "\(result)")
        }
    }

    @Test("a partition without a commit at the origin loses an older commit at the destination; beyond mirrored commits the mirrored end")
    func staleDestinationCommits() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 3, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 90, partitions: 3), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value
            // Taken at dc-a after the flow stopped: never mirrored (the unmirrored tail).
            try await produce(sampleRecords(topic: "orders", count: 30, partitions: 3, from: 90).filter { $0.partition == 0 }, to: sites.brokerA)

            // An earlier failover left positions at dc-b.
            try await GroupTranslationTests.commit(group: "billing", topic: "dc-a.orders", [0: 5, 1: 6, 2: 7], on: sites.brokerB)
            // Now at dc-a: p0 read past the mirrored end, p1 read to 12, p2 never committed.
            try await GroupTranslationTests.commit(group: "billing", topic: "orders", [0: 38, 1: 12], on: sites.brokerA)

            let service = OffsetTranslationService(configuration: configuration, logger: quietLogger)
            let dry = try await service.translate(direction: .failover, dryRun: true, groups: [mirrorGroup("billing")])
            #expect(dry.cleared == [mirrorGroup("billing"): [mirrorPartition("dc-a.orders", 2)]])
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 3, on: sites.brokerB) == [0: 5, 1: 6, 2: 7])

            let result = try await service.translate(direction: .failover, dryRun: false, groups: [mirrorGroup("billing")])
            #expect(result.commitFailures.isEmpty, "\(result)")
            #expect(result.report.recordsAtRisk == 8)
            #expect(result.description.contains("removed the stale commit of dc-a.orders/2"))
            // p0: the end of what dc-b has (30 copies), p1 exact, p2 no commit (auto.offset.reset, as at dc-a).
            #expect(try await committedOffsets(group: "billing", topic: "dc-a.orders", partitions: 3, on: sites.brokerB) == [0: 30, 1: 12])
        }
    }
}
