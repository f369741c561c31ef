import KafkaClient
import Mirror
import Testing

@Suite("Flow safety: refusing to guess", .timeLimit(.minutes(2)))
struct FlowSafetyTests {
    @Test("another writer on a prefix target partition stops the flow with cannot-resume instead of guessing")
    func otherWriterStopsTheFlow() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 5, partitions: 1), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let first = Flow(configuration: configuration, logger: quietLogger)
            let running = start(first)
            try await first.drain()
            try await running.value

            // Someone else writes into the flow's target partition.
            try await produce([ProducerRecord(topic: "dc-a.orders", partition: 0, value: "intruder")], to: sites.brokerB)
            try await produce(sampleRecords(topic: "orders", count: 5, partitions: 1, from: 5), to: sites.brokerA)
            let second = Flow(configuration: configuration, logger: quietLogger)
            await #expect(throws: MirrorError.self) { try await second.run() }
            guard case .failed(let error) = second.status.phase else {
                Issue.record("expected a failed flow, found \(second.status.phase)")
                return
            }
            #expect(error.code == .cannotResume)
            // Nothing more was copied behind the intruder.
            #expect((try await readAll("dc-a.orders", on: sites.brokerB)[0]?.count) == 6)
        }
    }

    @Test("records removed by retention at the source while the flow was down are passed over; a drain still ends")
    func retentionWhileDown() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 10, partitions: 1), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let first = Flow(configuration: configuration, logger: quietLogger)
            let running = start(first)
            try await first.drain()
            try await running.value

            try await produce(sampleRecords(topic: "orders", count: 10, partitions: 1, from: 10), to: sites.brokerA)
            _ = try await admin(sites.brokerA).deleteRecords(before: [KafkaClient.TopicPartition("orders", 0): 20])
            let second = Flow(configuration: configuration, logger: quietLogger)
            let runningAgain = start(second)
            try await second.drain()
            try await runningAgain.value
            #expect(second.status.positions[mirrorPartition("orders", 0)] == 20)
            #expect((try await readAll("dc-a.orders", on: sites.brokerB)[0]?.count) == 10)
        }
    }

    @Test("malformed records on the offset-map topic are skipped when the map is loaded")
    func malformedMapRecordsAreSkipped() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 8, partitions: 1), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value
            let mapTopic = KafkaClient.TopicName(configuration.offsetMapTopic.rawValue)
            try await produce([
                ProducerRecord(topic: mapTopic, partition: 0, key: Array("dc-a/dc-b/orders/0/m/99".utf8), value: [1, 1, 0]),
                ProducerRecord(topic: mapTopic, partition: 0, key: [0xFF, 0xFE], value: [9]),
                // An empty key: the compacted map topic refuses a null one (INVALID_RECORD), as Kafka does.
                ProducerRecord(topic: mapTopic, partition: 0, key: [], value: nil),
            ], to: sites.brokerB)
            let map = try await OffsetTranslationService(configuration: configuration, logger: quietLogger).loadOffsetMap()
            #expect(map.translate(mirrorPartition("orders", 0), sourceOffset: 3) == .mapped(3))
            #expect(map.translate(mirrorPartition("orders", 0), sourceOffset: 8) == .caughtUp(8))

            // A flow restarts over the same topic too.
            try await produce(sampleRecords(topic: "orders", count: 2, partitions: 1, from: 8), to: sites.brokerA)
            let again = Flow(configuration: configuration, logger: quietLogger)
            let runningAgain = start(again)
            try await again.drain()
            try await runningAgain.value
            #expect((try await readAll("dc-a.orders", on: sites.brokerB)[0]?.count) == 10)
        }
    }
}
