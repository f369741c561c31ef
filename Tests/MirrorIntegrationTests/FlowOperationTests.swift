import Foundation
import KafkaClient
import Metrics
import Logging
import MetricsTestKit
import Mirror
import ServiceLifecycle
import Testing

@Suite("Flow operation: provisioning, offset-map storage, control, metrics", .timeLimit(.minutes(2)))
struct FlowOperationTests {
    @Test("partitions added at the source and new selected topics are provisioned and copied while running")
    func growsWithTheSource() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 10, partitions: 1), to: sites.brokerA)
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            configuration.provisioningInterval = .milliseconds(100)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await waitUntil("the first records are copied") {
                (try await readAll("dc-a.orders", on: sites.brokerB)[0]?.count ?? 0) == 10
            }
            for (_, result) in try await admin(sites.brokerA).createPartitions(["orders": 3]) { try result.get() }
            try await createTopic("payments", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 30, partitions: 3, from: 100), to: sites.brokerA)
            try await produce(sampleRecords(topic: "payments", count: 10, partitions: 2), to: sites.brokerA)
            try await waitUntil("the target grew and holds the new records") {
                let orders = try await readAll("dc-a.orders", on: sites.brokerB)
                let payments = try await readAll("dc-a.payments", on: sites.brokerB)
                return orders.count == 3 && (orders[2]?.count ?? 0) == 10 && (orders[0]?.count ?? 0) == 20
                    && payments.values.reduce(0) { $0 + $1.count } == 10
            }
            try await flow.drain()
            try await running.value
            let topics = try await admin(sites.brokerB).listTopics()
            #expect(topics["dc-a.orders"]?.partitionCount == 3)
            #expect(topics["dc-a.payments"]?.partitionCount == 2)
        }
    }

    @Test("a topic created after the flow's last look at the source is found by refreshTopics at once, and by a drain on its own")
    func newTopicsWithoutWaitingForTheInterval() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            configuration.provisioningInterval = .seconds(3600)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await waitUntil("the flow runs") { flow.status.phase == .running }
            try await createTopic("payments", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "payments", count: 5, partitions: 1), to: sites.brokerA)
            flow.refreshTopics()
            try await waitUntil("the new topic is copied without waiting an hour") {
                (try await readAll("dc-a.payments", on: sites.brokerB)[0]?.count ?? 0) == 5
            }
            try await createTopic("refunds", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "refunds", count: 3, partitions: 1), to: sites.brokerA)
            try await flow.drain()
            try await running.value
            #expect((try await readAll("dc-a.refunds", on: sites.brokerB)[0]?.count ?? 0) == 3, "the drain looked at the source first")
        }
    }

    @Test("the offset map is pruned below what retention deleted at the source, and its topic gets a tombstone for the pruned range")
    func prunedBelowTheSourceLogStart() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 40, partitions: 1), to: sites.brokerA)
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            configuration.provisioningInterval = .milliseconds(100)
            configuration.lagInterval = .milliseconds(100)
            configuration.mapStoreInterval = .milliseconds(100)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await waitUntil("the records are copied") { (try await readAll("dc-a.orders", on: sites.brokerB)[0]?.count ?? 0) == 40 }
            _ = try await admin(sites.brokerA).deleteRecords(before: [KafkaClient.TopicPartition("orders", 0): 30])
            let partition = mirrorPartition("orders", 0)
            try await waitUntil("the stored map is pruned below the source's new log start") {
                (flow.offsetMapSnapshot()?[partition].prunedBelow ?? 0) == 30
            }
            try await flow.drain()
            try await running.value
            let map = try await OffsetTranslationService(configuration: configuration, logger: quietLogger).loadOffsetMap()
            #expect(map[partition].prunedBelow == 30)
            #expect(map[partition].ranges.first?.sourceStart == 30)
            let records = try await readAll(configuration.offsetMapTopic.rawValue, on: sites.brokerB)[0] ?? []
            #expect(records.contains { $0.value == nil && String(decoding: $0.key ?? [], as: UTF8.self).hasSuffix("/orders/0/m/0") },
                    "a tombstone for the range stored under source offset 0")
        }
    }

    @Test("the offset map is stored on the target cluster and in the cache file; lost both, it is rebuilt from the target log")
    func offsetMapStorage() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 100, partitions: 2), to: sites.brokerA)
            _ = try await admin(sites.brokerA).deleteRecords(before: [KafkaClient.TopicPartition("orders", 1): 10])
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value

            let service = OffsetTranslationService(configuration: configuration, logger: quietLogger)
            let fromBoth = try await service.loadOffsetMap()
            let fromTopic = try await {
                try FileManager.default.removeItem(atPath: configuration.offsetMapFilePath)
                return try await service.loadOffsetMap()
            }()
            let mapTopic = try await readAll(configuration.offsetMapTopic.rawValue, on: sites.brokerB)
            #expect((mapTopic[0]?.count ?? 0) > 0)
            #expect(fromTopic == fromBoth)
            let p0 = mirrorPartition("orders", 0)
            let p1 = mirrorPartition("orders", 1)
            #expect(fromBoth.translate(p0, sourceOffset: 0) == .mapped(0))
            #expect(fromBoth.translate(p0, sourceOffset: 50) == .caughtUp(50))
            #expect(fromBoth.translate(p1, sourceOffset: 15) == .mapped(5))
            #expect(fromBoth.translate(p1, targetOffset: 5) == .mapped(15))

            // Both stores lost: the next run rebuilds the map from the copies' headers.
            for (_, result) in try await admin(sites.brokerB).deleteTopics([KafkaClient.TopicName(configuration.offsetMapTopic.rawValue)]) {
                try result.get()
            }
            try? FileManager.default.removeItem(atPath: configuration.offsetMapFilePath)
            let again = Flow(configuration: configuration, logger: quietLogger)
            let runningAgain = start(again)
            try await again.drain()
            try await runningAgain.value
            let rebuilt = try await service.loadOffsetMap()
            #expect(rebuilt[p0].ranges == fromBoth[p0].ranges)
            #expect(rebuilt[p1].ranges == fromBoth[p1].ranges)
        }
    }

    @Test("pause holds copying, resume and drain finish it; stop ends run()")
    func pauseResumeStop() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await waitUntil("running") { flow.status.phase == .running }
            flow.pause()
            #expect(flow.status.phase == .paused)
            try await produce(sampleRecords(topic: "orders", count: 20, partitions: 1), to: sites.brokerA)
            flow.resume()
            try await waitUntil("copied after resume") { flow.status.positions[mirrorPartition("orders", 0)] == 20 }
            flow.stop()
            try await running.value
            #expect(flow.status.phase == .stopped)
            #expect((try await readAll("dc-a.orders", on: sites.brokerB)[0]?.count) == 20)
        }
    }

    @Test("as a Service in a ServiceGroup: graceful shutdown stops the flow after storing its map")
    func gracefulShutdown() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 30, partitions: 1), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let group = ServiceGroup(services: [flow], logger: quietLogger)
            let running = Task { try await group.run() }
            try await waitUntil("copied") { flow.status.positions[mirrorPartition("orders", 0)] == 30 }
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(flow.status.phase == .stopped)
            let map = try await OffsetTranslationService(configuration: configuration, logger: quietLogger).loadOffsetMap()
            #expect(map.translate(mirrorPartition("orders", 0), sourceOffset: 30) == .caughtUp(30))
        }
    }

    @Test("records and bytes copied, lag in records and milliseconds, per flow and partition")
    func metrics() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            let records = sampleRecords(topic: "orders", count: 40, partitions: 2)
            try await produce(records, to: sites.brokerA)
            let metrics = TestMetrics()
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            configuration.lagInterval = .milliseconds(20)
            let flow = Flow(configuration: configuration, logger: quietLogger, metricsFactory: metrics)
            let running = start(flow)
            let dimensions = [("flow", "dc-a->dc-b"), ("topic", "orders"), ("partition", "1")]
            try await waitUntil("lag reaches 0 after the copies") {
                (try? metrics.expectCounter("switchback_mirror_records_total", dimensions).totalValue) == 20
                    && (try? metrics.expectGauge("switchback_mirror_lag_records", dimensions).lastValue) == 0
            }
            try await flow.drain()
            try await running.value
            let bytesPerRecord = records.filter { $0.partition == 1 }.map { record in
                (record.key?.count ?? 0) + (record.value?.count ?? 0) + record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
            }.reduce(0, +)
            #expect(try metrics.expectCounter("switchback_mirror_bytes_total", dimensions).totalValue == Int64(bytesPerRecord))
            let lagTimes = try metrics.expectTimer("switchback_mirror_lag_ms", dimensions).values
            #expect(lagTimes.count == 20)
            // The sample records carry timestamps from 2023, so each copy's lag is years.
            #expect(lagTimes.allSatisfy { $0 > 86_400_000 * 365 * 1_000_000 })
        }
    }
}
