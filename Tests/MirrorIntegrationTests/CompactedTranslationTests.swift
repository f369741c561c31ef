import Foundation
import KafkaClient
import LocalKafka
import Mirror
import Testing
import TestSupport

/// A flow from a source topic LocalKafka really compacts: the copy holds exactly the records
/// that were there when the flow read them, the offset map has a range per stretch without a
/// gap, and groups move across the gaps exactly, in both directions.
@Suite("A compacted source topic is copied and its groups translated exactly", .timeLimit(.minutes(3)))
struct CompactedTranslationTests {
    static let topic = "ledger"
    static let partitions: Int32 = 3

    /// One record as produced, at its source offset.
    struct Written {
        var partition: Int32
        var offset: Int64
        var key: String
        var value: String
        var app: String
        var timestamp: Int64
    }

    /// Runs `body` with two sites whose brokers it can compact: dc-a is the source.
    static func withCompactingSites<T>(_ body: (TwoSites, LocalKafkaBroker) async throws -> T) async throws -> T {
        let configure: (inout BrokerConfiguration) -> Void = { configuration in
            configuration.autoCreateTopics = false
            configuration.fsync = .always
            // Only the test's explicit compactions run, so it knows what each removed.
            configuration.compactionInterval = .seconds(3600)
        }
        return try await withLocalKafka(configure: configure) { a in
            try await withLocalKafka(configure: configure) { b in
                try await withTemporaryDirectory(prefix: "mirror-compacted") { directory in
                    try await body(
                        TwoSites(brokerA: a.bootstrapServers, brokerB: b.bootstrapServers, faultsA: a.faults, faultsB: b.faults, directory: directory),
                        a
                    )
                }
            }
        }
    }

    /// Produces `records` uncompressed (LocalKafka's cleaner does not open compressed batches),
    /// a few at a time so they land in many small batches and segments.
    static func producePlain(_ records: [ProducerRecord], to bootstrap: String) async throws -> [Written] {
        var configuration = KafkaProducerConfiguration(bootstrapServers: [bootstrap])
        configuration.client.logLevel = .error
        configuration.compression = .none
        configuration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        var written: [Written] = []
        for chunk in stride(from: 0, to: records.count, by: 6).map({ records[$0..<min($0 + 6, records.count)] }) {
            for (record, outcome) in zip(chunk, try await producer.send(Array(chunk))) {
                let delivered = try outcome.get()
                written.append(Written(
                    partition: delivered.partition.rawValue, offset: delivered.offset.rawValue,
                    key: String(decoding: record.key ?? [], as: UTF8.self), value: String(decoding: record.value ?? [], as: UTF8.self),
                    app: record.headers.first { $0.key == "app" }.map { String(decoding: $0.value ?? [], as: UTF8.self) } ?? "",
                    timestamp: record.timestamp?.milliseconds ?? -1))
            }
        }
        await producer.shutdown()
        return written
    }

    /// Per partition: every fifth record has a key of its own, the others cycle over four hot keys.
    static func firstPhase() -> [ProducerRecord] {
        (0..<180).map { index in
            let partition = Int32(index % 3)
            let position = index / 3
            let key = position % 5 == 0 ? "stable-\(partition)-\(position)" : "hot-\(position % 4)"
            return record(partition: partition, key: key, value: "one-\(index)", index: index)
        }
    }

    /// Per partition, twenty distinct keys: the hot keys, half the stable keys, and new ones. No
    /// key repeats, so compaction removes only records the flow has already copied.
    static func secondPhase() -> [ProducerRecord] {
        (0..<60).map { index in
            let partition = Int32(index % 3)
            let position = index / 3
            let key = switch position {
            case 0..<4: "hot-\(position)"
            case 4..<10: "stable-\(partition)-\((position - 4) * 10)"
            default: "new-\(partition)-\(position)"
            }
            return record(partition: partition, key: key, value: "two-\(index)", index: 1_000 + index)
        }
    }

    static func record(partition: Int32, key: String, value: String, index: Int) -> ProducerRecord {
        ProducerRecord(
            topic: KafkaClient.TopicName(topic), partition: KafkaClient.Partition(partition),
            key: Array(key.utf8), value: Array(value.utf8),
            headers: [KafkaHeader(key: "app", string: "app-\(index)")],
            timestamp: KafkaTimestamp(milliseconds: 1_700_000_000_000 + Int64(index)))
    }

    /// Source offsets per partition of what the topic holds now.
    static func sourceOffsets(_ bootstrap: String) async throws -> [Int32: [Int64]] {
        try await readAll(topic, on: bootstrap).mapValues { $0.map(\.offset.rawValue) }
    }

    /// The ranges an exact map must hold for copies at these (source, target) offset pairs: a new
    /// range wherever either offset does not continue the previous one.
    static func expectedRanges(_ pairs: [(source: Int64, target: Int64)]) -> [(source: Int64, target: Int64, count: Int64)] {
        var ranges: [(source: Int64, target: Int64, count: Int64)] = []
        for pair in pairs {
            if let last = ranges.last, last.source + last.count == pair.source, last.target + last.count == pair.target {
                ranges[ranges.count - 1].count += 1
            } else {
                ranges.append((pair.source, pair.target, 1))
            }
        }
        return ranges
    }

    @Test("copies what compaction left, keeps gaps as map ranges, translates groups across gaps both ways")
    func compactedSourceIsCopiedAndTranslatedExactly() async throws {
        try await Self.withCompactingSites { sites, sourceBroker in
            let a = sites.brokerA
            try await createTopic(Self.topic, partitions: Self.partitions, on: a, configs: ["cleanup.policy": "compact", "segment.bytes": "600"])
            var written = try await Self.producePlain(Self.firstPhase(), to: a)
            let firstEnds = Dictionary(grouping: written, by: \.partition).mapValues { ($0.map(\.offset).max() ?? -1) + 1 }
            #expect(try await sourceBroker.compact(topic: Self.topic).recordsRemoved > 0)
            let afterFirst = try await Self.sourceOffsets(a)

            // The flow starts on the compacted topic and catches up.
            let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b, include: [Self.topic])
            let flow = Flow(configuration: configuration, logger: quietLogger)
            let running = start(flow)
            try await waitUntil("the flow copied the first phase", timeout: .seconds(60)) {
                let positions = flow.status.positions
                return (0..<Self.partitions).allSatisfy { partition in
                    (positions[mirrorPartition(Self.topic, partition)]?.rawValue ?? 0) >= (firstEnds[partition] ?? 0)
                }
            }
            // While it runs: new records overwrite copied ones, and the topic is compacted again.
            written += try await Self.producePlain(Self.secondPhase(), to: a)
            #expect(try await sourceBroker.compact(topic: Self.topic).recordsRemoved > 0)
            let afterSecond = try await Self.sourceOffsets(a)
            try await flow.drain()
            try await running.value

            let target = try await readAll("dc-a.\(Self.topic)", on: sites.brokerB)
            let map = try #require(try OffsetMapFile.read(path: configuration.offsetMapFilePath, flow: configuration.flow))
            for partition: Int32 in 0..<Self.partitions {
                let firstEnd = firstEnds[partition] ?? 0
                let copies = target[partition] ?? []
                let copied = copies.compactMap { sourcePosition(of: $0)?.offset.rawValue }
                // Exactly once and in order: what the first compaction left, then the second phase as it stood.
                let expected = (afterFirst[partition] ?? []) + (afterSecond[partition] ?? []).filter { $0 >= firstEnd }
                #expect(copied == expected, "partition \(partition)")
                #expect(copied.count == copies.count)
                #expect(Set(afterSecond[partition] ?? []).isSubset(of: Set(copied)), "partition \(partition) lost a surviving record")
                for copy in copies {
                    let original = try #require(written.first { $0.partition == partition && $0.offset == sourcePosition(of: copy)?.offset.rawValue })
                    #expect(copy.keyString == original.key && copy.valueString == original.value)
                    #expect(copy.headers.first(named: "app").flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } == original.app)
                    #expect(copy.timestamp?.milliseconds == original.timestamp)
                }
                // The map: one range per stretch without a gap, never one across a gap.
                let pairs = zip(copied, copies.map(\.offset.rawValue)).map { (source: $0, target: $1) }
                let expectedRanges = Self.expectedRanges(pairs)
                let ranges = map[mirrorPartition(Self.topic, partition)].ranges
                #expect(ranges.map { "\($0.sourceStart.rawValue)+\($0.count)->\($0.targetStart.rawValue)" }
                    == expectedRanges.map { "\($0.source)+\($0.count)->\($0.target)" }, "partition \(partition)")
                #expect(ranges.count > 2, "partition \(partition) has no gaps: \(ranges)")
            }

            try await Self.translateGroups(sites: sites, configuration: configuration, target: target,
                                           afterFirst: afterFirst, afterSecond: afterSecond)
        }
    }

    /// Groups positioned at the source near the end, far behind, and inside gaps each compaction
    /// made read exactly their unread records at the target; then one fails back.
    static func translateGroups(
        sites: TwoSites, configuration: FlowConfiguration, target: [Int32: [KafkaRecord]],
        afterFirst: [Int32: [Int64]], afterSecond: [Int32: [Int64]]
    ) async throws {
        let a = sites.brokerA
        let mirrored = "dc-a.\(topic)"
        var positions: [String: [Int32: Int64]] = [:]
        for partition: Int32 in 0..<partitions {
            let first = afterFirst[partition] ?? []
            let second = afterSecond[partition] ?? []
            // Removed by the first compaction, between two records it left: never copied.
            let neverCopied = try #require(((first.first ?? 0)..<(first.last ?? 0)).first { !first.contains($0) })
            // Copied, then removed by the second compaction.
            let removedAfterCopy = try #require(first.dropFirst().first { !second.contains($0) })
            positions["far", default: [:]][partition] = 0
            positions["near", default: [:]][partition] = second[second.count - 3]
            positions["never-copied", default: [:]][partition] = neverCopied
            positions["removed-after-copy", default: [:]][partition] = removedAfterCopy
        }
        for (group, offsets) in positions {
            try await GroupTranslationTests.commit(group: group, topic: topic, offsets, on: a)
        }
        let service = OffsetTranslationService(configuration: configuration, logger: quietLogger)
        let result = try await service.translate(direction: .failover, dryRun: false)
        #expect(result.commitFailures.isEmpty)
        #expect(result.groupErrors.isEmpty)
        #expect(result.committedCount == 4 * Int(partitions), "\(result)")

        for (group, committed) in positions {
            let read = try await GroupTranslationTests.readFromCommitted(
                group: group, topic: mirrored, partitions: partitions, on: sites.brokerB, copies: true)
            for partition: Int32 in 0..<partitions {
                let start = committed[partition] ?? 0
                // Every copy from its position on: what it had not read (the copies of records the
                // second compaction removed at the source included, as it had not read them either).
                let unread = (target[partition] ?? []).compactMap { sourcePosition(of: $0)?.offset.rawValue }.filter { $0 >= start }
                #expect((read[partition] ?? []) == unread, "group \(group) partition \(partition) at dc-b from source offset \(start)")
                #expect(Set((afterSecond[partition] ?? []).filter { $0 >= start }).isSubset(of: Set(read[partition] ?? [])))
            }
        }

        // Failback: the group went on at dc-b; at dc-a it reads exactly what it had not read there,
        // wherever its dc-b position falls (near the end, on a copy of a record compaction has since
        // removed at dc-a, at the start).
        var targetCommit: [Int32: Int64] = [:]
        for partition: Int32 in 0..<partitions {
            let copies = target[partition] ?? []
            let second = Set(afterSecond[partition] ?? [])
            targetCommit[partition] = switch partition {
            case 0: Int64(copies.count - 2)
            case 1: Int64(try #require(copies.indices.dropFirst().first { !second.contains(sourcePosition(of: copies[$0])?.offset.rawValue ?? -1) }))
            default: 0
            }
        }
        try await GroupTranslationTests.commit(group: "far", topic: mirrored, targetCommit, on: sites.brokerB)
        let back = try await service.translate(direction: .failback, dryRun: false, groups: [MirrorGroupID(rawValue: "far")!])
        #expect(back.committedCount == Int(partitions), "\(back)")
        let readBack = try await GroupTranslationTests.readFromCommitted(group: "far", topic: topic, partitions: partitions, on: a, copies: false)
        for partition: Int32 in 0..<partitions {
            let copies = target[partition] ?? []
            let firstUnread = try #require(sourcePosition(of: copies[Int(targetCommit[partition] ?? 0)])).offset.rawValue
            let expected = (afterSecond[partition] ?? []).filter { $0 >= firstUnread }
            #expect((readBack[partition] ?? []) == expected, "failback partition \(partition) from source offset \(firstUnread)")
        }
    }
}
