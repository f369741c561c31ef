import KafkaClient
import Mirror
import Testing

@Suite("Active–active: two flows at once, one each way", .timeLimit(.minutes(2)))
struct ActiveActiveTests {
    @Test("every record arrives once at the other site and nothing circulates", arguments: [NamingPolicy.prefix, .identity])
    func bothWays(policy: NamingPolicy) async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 2, on: sites.brokerA)
            try await createTopic("orders", partitions: 2, on: sites.brokerB)
            let forward = try sites.flow(from: TwoSites.a, to: TwoSites.b, policy: policy)
            let backward = try sites.flow(from: TwoSites.b, to: TwoSites.a, policy: policy)

            // Two rounds: local writes at both sites while both flows run, then both drained;
            // the second round restarts the flows over targets that already hold copies (and,
            // under identity, local records after them).
            for round in 0..<2 {
                let flowAB = Flow(configuration: forward, logger: quietLogger)
                let flowBA = Flow(configuration: backward, logger: quietLogger)
                let runningAB = start(flowAB)
                let runningBA = start(flowBA)
                for chunk in 0..<3 {
                    let first = round * 300 + chunk * 100
                    try await produce(sampleRecords(topic: "orders", count: 50, partitions: 2, tag: "a", from: first), to: sites.brokerA)
                    try await produce(sampleRecords(topic: "orders", count: 50, partitions: 2, tag: "b", from: first), to: sites.brokerB)
                }
                // Each flow drains what its source holds now; copies the other flow writes
                // later carry the target's origin and would be skipped anyway.
                try await flowAB.drain()
                try await flowBA.drain()
                try await runningAB.value
                try await runningBA.value
            }

            for (site, bootstrap, other, otherBootstrap) in [("dc-a", sites.brokerA, "dc-b", sites.brokerB), ("dc-b", sites.brokerB, "dc-a", sites.brokerA)] {
                let otherLocal = try await readAll("orders", on: otherBootstrap)
                let mirroredTopic = policy == .prefix ? "\(other).orders" : "orders"
                let here = try await readAll(mirroredTopic, on: bootstrap)
                for partition: Int32 in 0..<2 {
                    // The other site's own records, in its order.
                    let born = (otherLocal[partition] ?? []).filter { sourcePosition(of: $0) == nil }
                    let copies = (here[partition] ?? []).filter { sourcePosition(of: $0)?.site.rawValue == other }
                    #expect(copies.map { sourcePosition(of: $0)?.offset.rawValue } == born.map(\.offset.rawValue),
                            "\(policy): \(other) → \(site) partition \(partition)")
                    #expect(copies.map(\.value) == born.map(\.value))
                    #expect(copies.allSatisfy { origin(of: $0) == other })
                    // Nothing born here came back here.
                    #expect(!(here[partition] ?? []).contains { origin(of: $0) == site && sourcePosition(of: $0) != nil },
                            "\(policy): a record born at \(site) came back")
                }
                #expect(born(in: otherLocal) == 300)
            }
            let topicsA = try await admin(sites.brokerA).listTopics().keys.map(\.rawValue)
            let topicsB = try await admin(sites.brokerB).listTopics().keys.map(\.rawValue)
            #expect(!topicsA.contains { $0.hasPrefix("dc-b.dc-a.") || $0.hasPrefix("dc-a.") })
            #expect(!topicsB.contains { $0.hasPrefix("dc-a.dc-b.") || $0.hasPrefix("dc-b.") })
        }
    }

    private func born(in records: [Int32: [KafkaRecord]]) -> Int {
        records.values.reduce(0) { $0 + $1.filter { sourcePosition(of: $0) == nil }.count }
    }
}
