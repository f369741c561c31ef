import KafkaClient
import Mirror
import Testing

/// A source with transactions: committed and aborted transactions interleaved with plain
/// records, partitions ending in markers. The flow copies exactly the committed and plain
/// records, drains, and moves groups across the gaps markers and aborted records leave.
@Suite("Transactional sources are mirrored and translated exactly", .timeLimit(.minutes(3)))
struct TransactionTranslationTests {
    /// Writes the source: per partition, plain records, a committed transaction with plain records
    /// inside it, an aborted transaction, more plain records, then (p0) an aborted and (p1) a
    /// committed transaction, so both partitions end in a marker.
    static func writeTransactionalSource(_ topic: String, on bootstrap: String) async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: [bootstrap])
        configuration.client.logLevel = .error
        configuration.transactionalID = TransactionalID("txn-source-\(topic)")
        let transactional = try KafkaProducer(configuration: configuration, logger: quietLogger)
        func records(_ tag: String, _ count: Int) -> [ProducerRecord] {
            sampleRecords(topic: topic, count: count * 2, partitions: 2, tag: tag)
        }
        func send(_ records: [ProducerRecord]) async throws {
            for outcome in try await transactional.send(records) { _ = try outcome.get() }
        }
        do {
            try await transactional.initTransactions()
            try await produce(records("plain-1", 5), to: bootstrap)
            try transactional.beginTransaction()
            try await send(records("committed-1", 3))
            try await produce(records("plain-inside", 2), to: bootstrap)
            try await send(records("committed-1b", 2))
            try await transactional.commitTransaction()
            try transactional.beginTransaction()
            try await send(records("aborted-1", 4))
            try await transactional.abortTransaction()
            try await produce(records("plain-2", 3), to: bootstrap)
            try transactional.beginTransaction()
            try await send(records("committed-2", 2))
            try await transactional.commitTransaction()
            // Last: an aborted transaction on partition 0 only, a committed one on partition 1 only.
            try transactional.beginTransaction()
            try await send(sampleRecords(topic: topic, count: 2, partitions: 1, tag: "aborted-last").map {
                var record = $0
                record.partition = 0
                return record
            })
            try await transactional.abortTransaction()
            try transactional.beginTransaction()
            try await send(sampleRecords(topic: topic, count: 2, partitions: 1, tag: "committed-last").map {
                var record = $0
                record.partition = 1
                return record
            })
            try await transactional.commitTransaction()
        } catch {
            await transactional.shutdown(timeout: .seconds(1))
            throw error
        }
        await transactional.shutdown()
    }

    /// Reads `topic` from `starts` (default: the beginning) up to the log ends, finishing on the
    /// consumer's position rather than on a last record, since a partition may end in a marker.
    static func read(
        _ topic: String, partitions: Int32, on bootstrap: String, from starts: [Int32: Int64]? = nil,
        isolation: KafkaConsumerConfiguration.IsolationLevel = .readCommitted
    ) async throws -> [Int32: [KafkaRecord]] {
        let admin = try admin(bootstrap)
        var ends: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        var assignment: [KafkaClient.TopicPartition: StartOffset] = [:]
        for partition in 0..<partitions {
            let tp = KafkaClient.TopicPartition(KafkaClient.TopicName(topic), KafkaClient.Partition(partition))
            let end = try await admin.watermarks(of: tp).high
            let start = starts.map { KafkaClient.Offset($0[partition] ?? end.rawValue) }
            if let start, start >= end { continue }
            if start == nil, end.rawValue == 0 { continue }
            ends[tp] = end
            assignment[tp] = start.map { .offset($0) } ?? .earliest
        }
        var result: [Int32: [KafkaRecord]] = [:]
        guard !assignment.isEmpty else { return result }
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap])
        configuration.client.logLevel = .error
        configuration.isolationLevel = isolation
        let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
        try await consumer.assign(assignment)
        let deadline = ContinuousClock.now + .seconds(45)
        var finished = false
        while ContinuousClock.now < deadline {
            let batch = try await consumer.nextBatch()
            for record in batch.records where record.offset < ends[record.topicPartition] ?? 0 {
                result[record.partition.rawValue, default: []].append(record)
            }
            finished = ends.allSatisfy { partition, end in (batch.positions[partition] ?? 0) >= end }
            if finished { break }
        }
        await consumer.close()
        #expect(finished, "\(topic) on \(bootstrap) was not read to its end in time")
        return result
    }

    /// ``read(_:partitions:on:from:isolation:)`` read_committed, as offsets: the records' own, or
    /// for copies the source offsets from their provenance header.
    static func readCommitted(
        _ topic: String, partitions: Int32, on bootstrap: String, from starts: [Int32: Int64]? = nil, copies: Bool = false
    ) async throws -> [Int32: [Int64]] {
        try await read(topic, partitions: partitions, on: bootstrap, from: starts).mapValues { records in
            records.map { copies ? (sourcePosition(of: $0)?.offset.rawValue ?? -1) : $0.offset.rawValue }
        }
    }

    @Test("only committed and plain records are copied, once and in order; drain returns although partitions end in markers; groups move both ways")
    func transactionalSourceFailoverAndFailback() async throws {
        try await withTwoSites { sites in
            let a = sites.brokerA
            try await createTopic("payments", partitions: 2, on: a)
            try await Self.writeTransactionalSource("payments", on: a)

            let committedAtSource = try await Self.readCommitted("payments", partitions: 2, on: a)
            let everything = try await Self.read("payments", partitions: 2, on: a, isolation: .readUncommitted)
            let sourceAdmin = try admin(a)
            var sourceEnds: [Int32: Int64] = [:]
            for partition: Int32 in 0..<2 {
                sourceEnds[partition] = try await sourceAdmin.watermarks(of: KafkaClient.TopicPartition("payments", KafkaClient.Partition(partition))).high.rawValue
            }
            // The source really has gaps: markers (no record at all) and aborted records.
            for partition: Int32 in 0..<2 {
                let visible = committedAtSource[partition] ?? []
                let stored = (everything[partition] ?? []).map(\.offset.rawValue)
                #expect(stored.count > visible.count, "partition \(partition) has aborted records")
                #expect(Int64(stored.count) < sourceEnds[partition] ?? 0, "partition \(partition) has markers")
                // Both partitions end in a marker: the last offset holds no record.
                #expect((stored.last ?? -1) < (sourceEnds[partition] ?? 0) - 1)
            }

            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            // Returns only because offsets passed without a record count as dealt with.
            try await flow.drain()
            try await running.value

            let copied = try await Self.readCommitted("dc-a.payments", partitions: 2, on: sites.brokerB, copies: true)
            for partition: Int32 in 0..<2 {
                #expect(copied[partition] == committedAtSource[partition], "target partition \(partition) holds the committed records once, in order")
            }

            // Positions a read_committed group can have: far behind, near the end, exactly on a
            // marker, inside an aborted transaction, and past the final marker (caught up).
            func marker(_ partition: Int32) -> Int64 {
                let stored = Set((everything[partition] ?? []).map(\.offset.rawValue))
                return (0..<(sourceEnds[partition] ?? 0)).first { !stored.contains($0) } ?? 0
            }
            func aborted(_ partition: Int32) -> Int64 {
                let visible = Set(committedAtSource[partition] ?? [])
                return (everything[partition] ?? []).map(\.offset.rawValue).first { !visible.contains($0) } ?? 0
            }
            func nearEnd(_ partition: Int32) -> Int64 { (committedAtSource[partition] ?? []).suffix(2).first ?? 0 }
            let groups: [String: [Int32: Int64]] = [
                "far": [0: 1, 1: 2],
                "near": [0: nearEnd(0), 1: nearEnd(1)],
                "on-marker": [0: marker(0), 1: marker(1)],
                "in-aborted": [0: aborted(0), 1: aborted(1)],
                "done": sourceEnds,
            ]
            for (group, offsets) in groups {
                try await GroupTranslationTests.commit(group: group, topic: "payments", offsets, on: a)
            }

            let service = OffsetTranslationService(configuration: configuration, logger: quietLogger)
            let result = try await service.translate(direction: .failover, dryRun: false)
            #expect(result.commitFailures.isEmpty && result.groupErrors.isEmpty, "\(result)")
            #expect(result.committedCount == 2 * groups.count, "\(result)")
            #expect(result.report.recordsAtRisk == 0, "\(result)")
            for (group, offsets) in groups {
                let read = try await GroupTranslationTests.readFromCommitted(
                    group: group, topic: "dc-a.payments", partitions: 2, on: sites.brokerB, copies: true)
                for partition: Int32 in 0..<2 {
                    let unread = (committedAtSource[partition] ?? []).filter { $0 >= offsets[partition] ?? 0 }
                    #expect((read[partition] ?? []) == unread, "group \(group) partition \(partition) at dc-b")
                }
            }

            // Failback: groups go on at dc-b, then move back; at dc-a each reads (read_committed)
            // exactly what it had not read at dc-b. "done" finished at dc-b: nothing is left at dc-a.
            let targetCopies = try await Self.read("dc-a.payments", partitions: 2, on: sites.brokerB)
            let targetEnds = (0..<Int32(2)).reduce(into: [Int32: Int64]()) { $0[$1] = Int64(targetCopies[$1]?.count ?? 0) }
            let targetCommits: [String: [Int32: Int64]] = [
                "far": [0: 3, 1: 6],
                "near": [0: (targetEnds[0] ?? 1) - 1, 1: (targetEnds[1] ?? 1) - 1],
                "done": targetEnds,
            ]
            for (group, offsets) in targetCommits {
                try await GroupTranslationTests.commit(group: group, topic: "dc-a.payments", offsets, on: sites.brokerB)
            }
            let back = try await service.translate(
                direction: .failback, dryRun: false, groups: targetCommits.keys.map { MirrorGroupID(rawValue: $0)! })
            #expect(back.commitFailures.isEmpty && back.groupErrors.isEmpty, "\(back)")
            #expect(back.committedCount == 2 * targetCommits.count, "\(back)")
            #expect(back.report.recordsAtRisk == 0, "\(back)")
            let sourceCommitted = try admin(a)
            for (group, offsets) in targetCommits {
                let all = (0..<Int32(2)).map { KafkaClient.TopicPartition("payments", KafkaClient.Partition($0)) }
                let positions = try await sourceCommitted.committedOffsets(group: GroupID(group), partitions: all)
                var starts: [Int32: Int64] = [:]
                for (tp, offset) in positions { starts[tp.partition.rawValue] = offset.rawValue }
                let read = try await Self.readCommitted("payments", partitions: 2, on: a, from: starts)
                for partition: Int32 in 0..<2 {
                    let copies = targetCopies[partition] ?? []
                    let index = Int(offsets[partition] ?? 0)
                    let expected: [Int64]
                    if index < copies.count {
                        let firstUnread = try #require(sourcePosition(of: copies[index])).offset.rawValue
                        expected = (committedAtSource[partition] ?? []).filter { $0 >= firstUnread }
                    } else {
                        expected = []
                        // Caught up at dc-b: back at dc-a after the final marker, not before it.
                        #expect(starts[partition] == sourceEnds[partition], "group \(group) partition \(partition)")
                    }
                    #expect((read[partition] ?? []) == expected, "group \(group) partition \(partition) back at dc-a")
                }
            }
        }
    }

    @Test("drain returns for a partition ending in a marker while another partition keeps receiving records over a slow link")
    func drainPastAMarkerUnderLoad() async throws {
        try await withTwoSites { sites in
            let a = sites.brokerA
            try await createTopic("busy", partitions: 2, on: a)
            var configuration = KafkaProducerConfiguration(bootstrapServers: [a])
            configuration.client.logLevel = .error
            configuration.transactionalID = "busy-writer"
            let transactional = try KafkaProducer(configuration: configuration, logger: quietLogger)
            try await transactional.initTransactions()
            try transactional.beginTransaction()
            _ = try await transactional.send((0..<3).map { ProducerRecord(topic: "busy", partition: 0, value: "committed-\($0)") })
            try await transactional.commitTransaction()
            await transactional.shutdown()

            // Partition 1 never rests: a producer sends to it back to back until the drain is done,
            // and every copy to dc-b is slowed, so some copy is always queued or in flight.
            sites.faultsB.inject(.latency(.milliseconds(50), api: .produce))
            var plainConfiguration = KafkaProducerConfiguration(bootstrapServers: [a])
            plainConfiguration.client.logLevel = .error
            plainConfiguration.linger = .milliseconds(1)
            let plain = try KafkaProducer(configuration: plainConfiguration, logger: quietLogger)
            let load = Task {
                var index = 0
                while !Task.isCancelled {
                    _ = try? await plain.send(ProducerRecord(topic: "busy", partition: 1, value: "load-\(index)"))
                    index += 1
                }
            }
            let flowConfiguration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
            let flow = Flow(configuration: flowConfiguration, logger: quietLogger)
            let running = start(flow)
            try await flow.drain()
            try await running.value
            load.cancel()
            _ = await load.value
            await plain.shutdown()
            sites.faultsB.heal()

            let copied = try await Self.readCommitted("dc-a.busy", partitions: 2, on: sites.brokerB, copies: true)
            #expect(copied[0] == [0, 1, 2])
            #expect((copied[1] ?? []).count > 0)
        }
    }
}
