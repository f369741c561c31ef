import KafkaClient
import Mirror
import Testing

@Suite("Flow copies topics between two clusters", .timeLimit(.minutes(2)))
struct FlowCopyTests {
    @Test("selected topics are copied with keys, values, headers, timestamps and partitions; others are not")
    func copiesSelectedTopics() async throws {
        try await withTwoSites { sites in
            let a = sites.brokerA
            try await createTopic("orders", partitions: 3, on: a, configs: ["retention.ms": "86400000", "cleanup.policy": "delete"])
            try await createTopic("audit-log", partitions: 1, on: a)
            try await createTopic("__private", partitions: 1, on: a)
            var records = sampleRecords(topic: "orders", count: 60, partitions: 3)
            records.append(ProducerRecord(topic: "orders", partition: 1, key: Array("tombstone".utf8), value: nil,
                                          headers: [KafkaHeader(key: "null-header", value: nil)],
                                          timestamp: KafkaTimestamp(milliseconds: 1_600_000_000_000)))
            records += sampleRecords(topic: "audit-log", count: 5, partitions: 1)
            records += sampleRecords(topic: "__private", count: 5, partitions: 1)
            try await produce(records, to: a)

            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b, exclude: ["audit-.*"])
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value
            #expect(flow.status.phase == .stopped)

            let targetTopics = try await admin(sites.brokerB).listTopics()
            #expect(targetTopics["dc-a.orders"]?.partitionCount == 3)
            #expect(targetTopics["dc-a.audit-log"] == nil)
            #expect(targetTopics["audit-log"] == nil)
            #expect(targetTopics["dc-a.__private"] == nil)

            // The configs that matter came along.
            let configs = try await admin(sites.brokerB).describeTopicConfigs(["dc-a.orders"])["dc-a.orders"]?.get() ?? []
            #expect(configs.first { $0.name == "retention.ms" }?.value == "86400000")

            let source = try await readAll("orders", on: a)
            let target = try await readAll("dc-a.orders", on: sites.brokerB)
            for partition: Int32 in 0..<3 {
                let sourceRecords = source[partition] ?? []
                let copies = target[partition] ?? []
                try #require(copies.count == sourceRecords.count)
                for (original, copy) in zip(sourceRecords, copies) {
                    #expect(copy.key == original.key)
                    #expect(copy.value == original.value)
                    #expect(copy.timestamp == original.timestamp)
                    #expect(Array(copy.headers.prefix(original.headers.count)) == original.headers)
                    #expect(origin(of: copy) == "dc-a")
                    let position = try #require(sourcePosition(of: copy))
                    #expect(position.description == "dc-a/orders/\(partition)/\(original.offset.rawValue)")
                }
            }
            #expect(target[1]?.contains { $0.value == nil && $0.key == Array("tombstone".utf8) } == true)
        }
    }
}
