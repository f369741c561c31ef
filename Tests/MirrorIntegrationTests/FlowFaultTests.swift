import KafkaClient
import KafkaWire
import Mirror
import TestSupport
import Testing

@Suite("Flow under faults of the target site", .timeLimit(.minutes(2)))
struct FlowFaultTests {
    static func expectExactCopy(_ sites: TwoSites, partitions: Int32) async throws {
        let source = try await readAll("orders", on: sites.brokerA)
        let target = try await readAll("dc-a.orders", on: sites.brokerB)
        for partition in 0..<partitions {
            #expect((target[partition] ?? []).map { sourcePosition(of: $0)?.offset.rawValue } == (source[partition] ?? []).map(\.offset.rawValue),
                    "partition \(partition)")
        }
    }

    @Test("refused writes at the target fail the session; the flow starts over and still copies each record once")
    func failedProducesAreRetried() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 200, partitions: 2), to: sites.brokerA)
            let flow = Flow(configuration: try sites.flow(from: TwoSites.a, to: TwoSites.b), logger: quietLogger)
            let running = start(flow)
            try await waitUntil("the first records are copied") {
                flow.status.positions.values.reduce(0) { $0 + $1.rawValue } >= 200
            }
            sites.faultsB.inject(.failRequests(api: .produce, error: .messageTooLarge, count: 3))
            try await produce(sampleRecords(topic: "orders", count: 300, partitions: 2, from: 200), to: sites.brokerA)
            try await waitUntil("the flow retried", timeout: .seconds(30)) { flow.status.retries > 0 }
            try await flow.drain()
            try await running.value
            try await Self.expectExactCopy(sites, partitions: 2)
        }
    }

    @Test("after a retriable failure the flow waits out its back-off on its clock, then starts over")
    func backoffOnTheInjectedClock() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 50, partitions: 2), to: sites.brokerA)
            sites.faultsB.inject(.failRequests(api: .produce, error: .messageTooLarge, count: 1))
            var configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            configuration.retryBackoff = .seconds(600)
            let clock = ManualClock()
            let flow = Flow(configuration: configuration, logger: quietLogger, clock: clock)
            let running = start(flow)
            try await waitUntil("the first session failed and the flow waits on its clock") {
                flow.status.phase == .retrying && clock.sleeperCount > 0
            }
            #expect(flow.status.retries == 1)
            // Ten minutes of back-off pass in an instant, because the test says so.
            clock.advance(by: .seconds(600))
            try await flow.drain()
            try await running.value
            #expect(flow.status.retries == 1)
            try await Self.expectExactCopy(sites, partitions: 2)
        }
    }

    @Test("over a slow link (every target request delayed) every record is copied once, in order")
    func slowLink() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 400, partitions: 2), to: sites.brokerA)
            sites.faultsB.inject(.latency(.milliseconds(40), api: nil))
            let flow = Flow(configuration: try sites.flow(from: TwoSites.a, to: TwoSites.b), logger: quietLogger)
            let running = start(flow)
            try await produce(sampleRecords(topic: "orders", count: 400, partitions: 2, from: 400), to: sites.brokerA)
            try await flow.drain()
            try await running.value
            sites.faultsB.heal()
            try await Self.expectExactCopy(sites, partitions: 2)
        }
    }
}
