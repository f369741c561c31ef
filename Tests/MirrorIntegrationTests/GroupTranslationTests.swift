import KafkaClient
import Mirror
import Testing

@Suite("Consumer groups move across a flow exactly", .timeLimit(.minutes(2)))
struct GroupTranslationTests {
    /// What a group reads from `topic` on `bootstrap` starting at its committed offsets, up to the
    /// log ends: the source offset of every record (from the provenance header when it is a
    /// copy, else its own offset), per partition.
    static func readFromCommitted(
        group: String, topic: String, partitions: Int32, on bootstrap: String, copies: Bool
    ) async throws -> [Int32: [Int64]] {
        let admin = try admin(bootstrap)
        var ends: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        var starts: [KafkaClient.TopicPartition: StartOffset] = [:]
        let all = (0..<partitions).map { KafkaClient.TopicPartition(KafkaClient.TopicName(topic), KafkaClient.Partition($0)) }
        let committed = try await admin.committedOffsets(group: GroupID(group), partitions: all)
        for tp in all {
            let end = try await admin.watermarks(of: tp).high
            guard let start = committed[tp], start < end else { continue }
            ends[tp] = end
            starts[tp] = .offset(start)
        }
        var result: [Int32: [Int64]] = [:]
        guard !starts.isEmpty else { return result }
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap])
        configuration.client.logLevel = .error
        let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
        try await consumer.assign(starts)
        var remaining = Set(ends.keys)
        for try await record in consumer.records {
            guard let end = ends[record.topicPartition], record.offset < end else { continue }
            let offset = copies ? (sourcePosition(of: record)?.offset.rawValue ?? -1) : record.offset.rawValue
            result[record.partition.rawValue, default: []].append(offset)
            if record.offset.next >= end { remaining.remove(record.topicPartition) }
            if remaining.isEmpty { break }
        }
        await consumer.close()
        return result
    }

    static func commit(group: String, topic: String, _ offsets: [Int32: Int64], on bootstrap: String) async throws {
        var request: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        for (partition, offset) in offsets {
            request[KafkaClient.TopicPartition(KafkaClient.TopicName(topic), KafkaClient.Partition(partition))] = KafkaClient.Offset(offset)
        }
        for (_, outcome) in try await admin(bootstrap).alterCommittedOffsets(group: GroupID(group), nextOffsets: request) {
            try outcome.get()
        }
    }

    @Test("failover then failback: each group reads exactly what it had not read, near the end and far behind, across gaps")
    func failoverAndFailback() async throws {
        try await withTwoSites { sites in
            let a = sites.brokerA
            try await createTopic("orders", partitions: 2, on: a)
            // Every 7th record came from dc-b (a copy written at dc-a): loop prevention skips it,
            // leaving gaps in the source offsets the map must translate across. Gaps from real
            // compaction are covered by CompactedTranslationTests, gaps left by transaction
            // markers and aborted transactions by TransactionTranslationTests; to the map a gap is
            // a gap, whatever made it.
            var records = sampleRecords(topic: "orders", count: 240, partitions: 2)
            for index in records.indices where index % 7 == 3 {
                records[index].headers.append(KafkaHeader(key: Provenance.originKey, string: "dc-b"))
            }
            try await produce(records, to: a)
            // Retention took the start of partition 0 (source offsets no longer line up with the target's).
            _ = try await admin(a).deleteRecords(before: [KafkaClient.TopicPartition("orders", 0): 20])

            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value

            let source = try await readAll("orders", on: a)
            func copiedOffsets(_ partition: Int32, from committed: Int64) -> [Int64] {
                (source[partition] ?? []).filter { origin(of: $0) != "dc-b" && $0.offset.rawValue >= committed }.map(\.offset.rawValue)
            }
            // near: a few records behind the end, p0 inside a gap (offset 117 was skipped); far: far behind
            // (p0 just above the deleted start).
            try await Self.commit(group: "near", topic: "orders", [0: 117, 1: 118], on: a)
            try await Self.commit(group: "far", topic: "orders", [0: 25, 1: 10], on: a)
            try await Self.commit(group: "done", topic: "orders", [0: 120, 1: 120], on: a)

            let service = OffsetTranslationService(configuration: configuration, logger: quietLogger)
            let dryRun = try await service.translate(direction: .failover, dryRun: true)
            #expect(dryRun.report.commitCount == 6, "\(dryRun)")
            #expect(try await admin(sites.brokerB).committedOffsets(
                group: "near", partitions: [KafkaClient.TopicPartition("dc-a.orders", 0), KafkaClient.TopicPartition("dc-a.orders", 1)]).isEmpty)

            let result = try await service.translate(direction: .failover, dryRun: false)
            #expect(result.commitFailures.isEmpty)
            #expect(result.groupErrors.isEmpty)
            #expect(result.committedCount == 6, "\(result)")

            for (group, committed) in [("near", [Int32(0): Int64(117), 1: 118]), ("far", [0: 25, 1: 10]), ("done", [0: 120, 1: 120])] {
                let read = try await Self.readFromCommitted(group: group, topic: "dc-a.orders", partitions: 2, on: sites.brokerB, copies: true)
                for partition: Int32 in 0..<2 {
                    #expect((read[partition] ?? []) == copiedOffsets(partition, from: committed[partition] ?? 0),
                            "group \(group) partition \(partition) at dc-b")
                }
            }

            // The group goes on at dc-b, then fails back: at dc-a it reads exactly what it had not read at dc-b.
            let target = try await readAll("dc-a.orders", on: sites.brokerB)
            let targetCommit: [Int32: Int64] = [0: 40, 1: 77]
            try await Self.commit(group: "far", topic: "dc-a.orders", targetCommit, on: sites.brokerB)
            let back = try await service.translate(direction: .failback, dryRun: false, groups: [MirrorGroupID(rawValue: "far")!])
            #expect(back.committedCount == 2, "\(back)")
            let readBack = try await Self.readFromCommitted(group: "far", topic: "orders", partitions: 2, on: a, copies: false)
            for partition: Int32 in 0..<2 {
                let copies = target[partition] ?? []
                let firstUnread = try #require(sourcePosition(of: copies[Int(targetCommit[partition] ?? 0)])).offset.rawValue
                // At dc-a the group reads from the first record it had not read at dc-b; the
                // dc-b-born records in between are dc-a's own log and are read there too.
                let expected = (source[partition] ?? []).map(\.offset.rawValue).filter { $0 >= firstUnread }
                #expect((readBack[partition] ?? []) == expected, "failback partition \(partition)")
            }
        }
    }

    @Test("a group with active members on the destination is skipped, with the reason")
    func activeGroupIsSkipped() async throws {
        try await withTwoSites { sites in
            try await createTopic("orders", partitions: 1, on: sites.brokerA)
            try await produce(sampleRecords(topic: "orders", count: 20, partitions: 1), to: sites.brokerA)
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value
            try await Self.commit(group: "busy", topic: "orders", [0: 5], on: sites.brokerA)

            var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: [sites.brokerB], groupID: "busy")
            consumerConfiguration.client.logLevel = .error
            let member = try KafkaConsumer(configuration: consumerConfiguration, logger: quietLogger)
            try member.subscribe(["dc-a.orders"])
            let reading = Task { for try await _ in member.records {} }
            try await waitUntil("the group has a member at dc-b") {
                let described = try await admin(sites.brokerB).describeConsumerGroups(["busy"])
                return (try? described["busy"]?.get().hasActiveMembers) == true
            }
            let result = try await OffsetTranslationService(configuration: configuration, logger: quietLogger)
                .translate(direction: .failover, dryRun: false)
            await member.close()
            reading.cancel()
            let plan = try #require(result.report.plans.first { $0.group.rawValue == "busy" })
            #expect(plan.commits.isEmpty)
            #expect(plan.entries.allSatisfy { $0.action == .skip(.groupActiveAtDestination) })
            #expect(result.description.contains("active members"))
        }
    }
}
