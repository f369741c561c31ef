import KafkaClient
import Mirror
import Testing
import TestSupport

@Suite("Exactly-once resume after kills", .timeLimit(.minutes(2)))
struct ExactlyOnceResumeTests {
    /// Sum of the target's log ends over `partitions` partitions of `topic`.
    static func targetCount(_ topic: String, partitions: Int32, on bootstrap: String) async throws -> Int64 {
        let admin = try admin(bootstrap)
        guard try await admin.listTopics()[KafkaClient.TopicName(topic)] != nil else { return 0 }
        var total: Int64 = 0
        for partition in 0..<partitions {
            total += try await admin.watermarks(of: KafkaClient.TopicPartition(KafkaClient.TopicName(topic), KafkaClient.Partition(partition))).high.rawValue
        }
        return total
    }

    @Test("killed at seeded random points while records stream, the target holds every record once, in order",
          arguments: [(UInt64(7), NamingPolicy.prefix), (1234, .identity)])
    func killsNeverDuplicateOrSkip(seed: UInt64, policy: NamingPolicy) async throws {
        var random = SeededGenerator(seed: seed)
        let total = 3_000
        let partitions: Int32 = 3
        try await withTwoSites { sites in
            try await createTopic("events", partitions: partitions, on: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b, policy: policy)
            let targetTopic = policy == .prefix ? "dc-a.events" : "events"
            let producing = Task {
                for chunk in stride(from: 0, to: total, by: 100) {
                    try await produce(sampleRecords(topic: "events", count: 100, partitions: partitions, from: chunk), to: sites.brokerA)
                }
            }
            // Several kills, each once the target has grown past a random point.
            var killPoints = (0..<4).map { _ in Int64.random(in: 50...Int64(total - 200), using: &random) }.sorted()
            killPoints = killPoints.enumerated().map { index, point in point + Int64(index) }
            for point in killPoints {
                let flow = Flow(configuration: configuration, logger: quietLogger)
                let running = start(flow)
                try await waitUntil("the target holds \(point) records") {
                    try await Self.targetCount(targetTopic, partitions: partitions, on: sites.brokerB) >= point
                }
                running.cancel()
                _ = try? await running.value
                if policy == .identity {
                    // Local writers share identity targets: the last records are then not copies,
                    // and the restart must find the newest copy behind them.
                    try await produce(sampleRecords(topic: "events", count: 6, partitions: partitions, tag: "local-b"), to: sites.brokerB)
                }
            }
            try await producing.value
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value

            let source = try await readAll("events", on: sites.brokerA)
            let target = try await readAll(targetTopic, on: sites.brokerB)
            for partition in 0..<partitions {
                let expected = (source[partition] ?? []).map(\.offset.rawValue)
                let copied = (target[partition] ?? []).compactMap { sourcePosition(of: $0)?.offset.rawValue }
                #expect(copied == expected, "partition \(partition), seed \(seed)")
                #expect((target[partition] ?? []).filter { sourcePosition(of: $0) != nil }.map(\.value)
                        == (source[partition] ?? []).map(\.value))
            }

            // The stored offset map (topic and file, caught up after the kills) is exact.
            let map = try await OffsetTranslationService(configuration: configuration, logger: quietLogger).loadOffsetMap()
            for partition in 0..<partitions {
                let sourcePartition = mirrorPartition("events", partition)
                for copy in target[partition] ?? [] {
                    guard let position = sourcePosition(of: copy) else { continue }
                    #expect(map.translate(sourcePartition, sourceOffset: position.offset) == .mapped(MirrorOffset(copy.offset.rawValue)))
                }
                // The flow alone writes prefix targets: one range. Identity targets are broken
                // into ranges by the local records between copies.
                if policy == .prefix { #expect(map[sourcePartition].ranges.count == 1) }
                #expect(map[sourcePartition].ranges.reduce(0) { $0 + $1.count } == Int64((source[partition] ?? []).count))
            }
        }
    }
}
