import Sites
import Testing
import TestSupport

@testable import Mirror

@Suite("Offset map: building and translation")
struct OffsetMapTests {
    let orders0 = tp("orders", 0)

    /// 100..<200 → 0..<100, marker at 200, 201..<301 → 100..<200, another writer at target
    /// 200..<210, 301..<351 → 210..<260.
    func example() throws -> PartitionOffsetMap {
        var map = PartitionOffsetMap()
        for s in Int64(100)..<200 { try map.record(sourceOffset: Offset(s), targetOffset: Offset(s - 100)) }
        for s in Int64(201)..<301 { try map.record(sourceOffset: Offset(s), targetOffset: Offset(s - 101)) }
        for s in Int64(301)..<351 { try map.record(sourceOffset: Offset(s), targetOffset: Offset(s - 91)) }
        return map
    }

    @Test("a contiguous stream of a million records stays one range")
    func millionIsOneRange() throws {
        var map = OffsetMap(flow: FlowID(from: dcA, to: dcB))
        for offset in Int64(0)..<1_000_000 {
            try map.record(orders0, sourceOffset: Offset(offset + 5_000), targetOffset: Offset(offset))
        }
        #expect(map[orders0].ranges == [MappedRange(sourceStart: 5_000, targetStart: 0, count: 1_000_000)])
        #expect(map.rangeCount == 1)
        let updates = map.takeUpdates()
        #expect(updates.count == 1)
        #expect(map.takeUpdates().isEmpty)
    }

    @Test("gaps in source or target offsets start new ranges")
    func gapsStartRanges() throws {
        let map = try example()
        #expect(map.ranges == [
            MappedRange(sourceStart: 100, targetStart: 0, count: 100),
            MappedRange(sourceStart: 201, targetStart: 100, count: 100),
            MappedRange(sourceStart: 301, targetStart: 210, count: 50),
        ])
        #expect(map.accountedEnd == 351)
    }

    @Test("transaction markers every N records: one range per transaction")
    func transactionMarkers() throws {
        var map = PartitionOffsetMap()
        var source: Int64 = 0
        var target: Int64 = 0
        for _ in 0..<500 {
            for _ in 0..<9 {
                try map.record(sourceOffset: Offset(source), targetOffset: Offset(target))
                source += 1
                target += 1
            }
            source += 1  // the commit marker takes an offset at the source, none at the target
        }
        #expect(map.ranges.count == 500)
        #expect(map.translate(sourceOffset: 9) == .mapped(9))  // marker → next record
        #expect(map.translate(sourceOffset: 10) == .mapped(9))
        #expect(map.translate(sourceOffset: 4_999) == .caughtUp(4_500))  // consumed past the last marker
        #expect(map.translate(targetOffset: 4_500) == .caughtUp(4_999))
    }

    @Test("source to target at every interesting position")
    func sourceToTarget() throws {
        var map = try example()
        let expected: [(Int64, OffsetTranslation)] = [
            (-1, .beforeMapped(firstMapped: 100)), (0, .beforeMapped(firstMapped: 100)), (99, .beforeMapped(firstMapped: 100)),
            (100, .mapped(0)), (150, .mapped(50)), (199, .mapped(99)),
            (200, .mapped(100)),  // in the gap: the next copied record
            (201, .mapped(100)), (300, .mapped(199)),
            (301, .mapped(210)),  // first of a range after a target gap
            (350, .mapped(259)),  // last copied
            (351, .caughtUp(260)),  // one past the last copied
            (352, .beyondMirrored(lastCopied: 350, recordsAtRisk: 1)),
            (400, .beyondMirrored(lastCopied: 350, recordsAtRisk: 49)),
        ]
        for (committed, translation) in expected {
            #expect(map.translate(sourceOffset: Offset(committed)) == translation, "source \(committed)")
        }
        // A tail accounted for without copies (markers, loop-skipped records) counts as caught up.
        map.advanceSourceEnd(to: 360)
        #expect(map.translate(sourceOffset: 355) == .caughtUp(260))
        #expect(map.translate(sourceOffset: 360) == .caughtUp(260))
        #expect(map.translate(sourceOffset: 361) == .beyondMirrored(lastCopied: 350, recordsAtRisk: 1))
        #expect(map.translate(sourceOffset: 352).offsetToCommit == 260)
        #expect(map.translate(sourceOffset: 361).offsetToCommit == nil)
    }

    @Test("target to source at every interesting position")
    func targetToSource() throws {
        var map = try example()
        let expected: [(Int64, OffsetTranslation)] = [
            (-5, .beforeMapped(firstMapped: 0)),
            (0, .mapped(100)), (99, .mapped(199)), (100, .mapped(201)), (199, .mapped(300)),
            (200, .mapped(301)), (209, .mapped(301)),  // written by someone else: next mirrored record
            (210, .mapped(301)), (259, .mapped(350)),
            (260, .caughtUp(351)),
            (261, .beyondMirrored(lastCopied: 259, recordsAtRisk: 1)),
            (300, .beyondMirrored(lastCopied: 259, recordsAtRisk: 40)),
        ]
        for (committed, translation) in expected {
            #expect(map.translate(targetOffset: Offset(committed)) == translation, "target \(committed)")
        }
        map.advanceSourceEnd(to: 360)
        #expect(map.translate(targetOffset: 260) == .caughtUp(360))
    }

    @Test("an empty map reports no mirrored records in both directions")
    func emptyMap() {
        let map = PartitionOffsetMap()
        #expect(map.translate(sourceOffset: 0) == .noMirroredRecords)
        #expect(map.translate(targetOffset: 7) == .noMirroredRecords)
        #expect(OffsetMap(flow: FlowID(from: dcA, to: dcB)).translate(orders0, sourceOffset: 3) == .noMirroredRecords)
    }

    @Test("replaying recorded deliveries is harmless; contradictions throw")
    func replayAndConflicts() throws {
        var map = try example()
        let before = map
        #expect(try map.record(sourceOffset: 150, targetOffset: 50) == .alreadyRecorded)
        #expect(try map.record(sourceOffset: 350, targetOffset: 259) == .alreadyRecorded)
        #expect(map == before)
        let conflicts: [(Int64, Int64)] = [
            (150, 51),  // mapped elsewhere
            (200, 100),  // a gap cannot be filled later
            (50, 0),  // before the first range
            (351, 259),  // target offsets must increase
            (400, 10),
            (-1, 500), (500, -1), (Int64.max, 600),
        ]
        for (source, target) in conflicts {
            #expect(throws: MirrorError.self, "\(source)→\(target)") {
                try map.record(sourceOffset: Offset(source), targetOffset: Offset(target))
            }
        }
        #expect(map == before)
        // Below the accounted end is a conflict too: it was declared not copied.
        map.advanceSourceEnd(to: 360)
        #expect(throws: MirrorError.self) { try map.record(sourceOffset: 355, targetOffset: 260) }
        #expect(try map.record(sourceOffset: 360, targetOffset: 260) == .recorded)
        #expect(map.ranges.count == 4)
    }

    @Test("stored again and again, a contiguous stream is one key; pruning removes the keys of the ranges it drops")
    func boundedKeys() throws {
        var map = OffsetMap(flow: FlowID(from: dcA, to: dcB))
        var keys: [String: [UInt8]?] = [:]
        func store() {
            for update in map.takeUpdates() {
                let (key, value) = OffsetMapRecordCodec.encode(update)
                keys[String(decoding: key, as: UTF8.self)] = value
            }
        }
        var target: Int64 = 0
        for source in Int64(0)..<3_000 {
            // A transaction marker after every 1,000 records starts a new range.
            if source % 1_000 == 999 { continue }
            try map.record(orders0, sourceOffset: Offset(source), targetOffset: Offset(target))
            target += 1
            if source % 50 == 0 { store() }
        }
        map.advanceSourceEnd(orders0, to: 3_000)
        store()
        // 60 stores: three ranges, the accounted end, nothing per store.
        #expect(keys.keys.sorted() == ["dc-a/dc-b/orders/0/e", "dc-a/dc-b/orders/0/m/0", "dc-a/dc-b/orders/0/m/1000", "dc-a/dc-b/orders/0/m/2000"])
        map.prune(orders0, belowSource: 1_500)
        store()
        #expect(keys["dc-a/dc-b/orders/0/m/0"] == .some(nil), "a tombstone for the range pruned away")
        #expect(keys["dc-a/dc-b/orders/0/m/1000"] == .some(nil), "the cut range's old key is removed")
        #expect(keys["dc-a/dc-b/orders/0/m/1500"] != nil && keys["dc-a/dc-b/orders/0/m/1500"] != .some(nil), "and stored under its new start")
        // What the surviving keys hold loads back as the map, in whatever order compaction left them.
        let surviving = try keys.compactMap { key, value in try value.map { try OffsetMapRecordCodec.decode(key: Array(key.utf8), value: $0) } }
        for order in [surviving, surviving.reversed()] {
            var loaded = OffsetMap(flow: FlowID(from: dcA, to: dcB))
            for update in OffsetMap.storedOrder(order) { try loaded.apply(update) }
            #expect(loaded == map)
        }
    }

    @Test("a restarted flow continues the last range when contiguous")
    func restartMerges() throws {
        var original = OffsetMap(flow: FlowID(from: dcA, to: dcB))
        for offset in Int64(0)..<1_000 { try original.record(orders0, sourceOffset: Offset(offset), targetOffset: Offset(offset)) }
        let stored = original.takeUpdates()
        var restarted = OffsetMap(flow: FlowID(from: dcA, to: dcB))
        for update in stored { try restarted.apply(update) }
        // Resume re-reports the last delivery (harmless), then continues.
        try restarted.record(orders0, sourceOffset: 999, targetOffset: 999)
        for offset in Int64(1_000)..<2_000 { try restarted.record(orders0, sourceOffset: Offset(offset), targetOffset: Offset(offset)) }
        #expect(restarted[orders0].ranges == [MappedRange(sourceStart: 0, targetStart: 0, count: 2_000)])
        // The new update is the whole grown range, under the key the stored one had: the
        // compacted offset-map topic keeps one record for it.
        let delta = restarted.takeUpdates()
        #expect(delta.map(\.change) == [.mapped(MappedRange(sourceStart: 0, targetStart: 0, count: 2_000)!)])
        #expect(OffsetMapRecordCodec.encode(delta[0]).key == OffsetMapRecordCodec.encode(stored[0]).key)
        var replayed = OffsetMap(flow: FlowID(from: dcA, to: dcB))
        for update in stored + delta { try replayed.apply(update) }
        #expect(replayed == restarted)
        #expect(replayed.rangeCount == 1)
    }

    @Test("pruning below the source log start offset")
    func pruneBelowSource() throws {
        var map = try example()
        map.prune(belowSource: 150)
        #expect(map.ranges.first == MappedRange(sourceStart: 150, targetStart: 50, count: 50))
        #expect(map.translate(sourceOffset: 149) == .beforeMapped(firstMapped: 150))
        #expect(map.translate(sourceOffset: 150) == .mapped(50))
        map.prune(belowSource: 250)
        #expect(map.ranges.count == 2)
        #expect(map.translate(sourceOffset: 250) == .mapped(149))
        #expect(map.translate(targetOffset: 148) == .beforeMapped(firstMapped: 149))
        map.prune(belowSource: 100)  // never goes back
        #expect(map.prunedBelow == 250)
        // Stored updates below the prune point are ignored, not conflicts.
        try map.apply(MappedRange(sourceStart: 100, targetStart: 0, count: 100)!)
        #expect(map.ranges.count == 2)
        map.prune(belowSource: 10_000)
        #expect(map.ranges.isEmpty)
        #expect(map.translate(sourceOffset: 400) == .noMirroredRecords)
    }

    @Test("pruning below the target log start offset")
    func pruneBelowTarget() throws {
        var map = try example()
        map.prune(belowTarget: 205)  // inside the foreign writer's gap: up to the next mirrored record
        #expect(map.prunedBelow == 301)
        #expect(map.ranges == [MappedRange(sourceStart: 301, targetStart: 210, count: 50)])
        var other = try example()
        other.prune(belowTarget: 120)
        #expect(other.ranges.first == MappedRange(sourceStart: 221, targetStart: 120, count: 80))
        other.prune(belowTarget: 1_000)
        #expect(other.ranges.isEmpty)
    }

    @Test("taken updates rebuild the same map, across prune and accounted end")
    func updatesRebuild() throws {
        var map = OffsetMap(flow: FlowID(from: dcA, to: dcB))
        var stored: [OffsetMapUpdate] = []
        var generator = SeededGenerator(seed: 42)
        var source: [TopicPartition: Int64] = [:]
        var target: [TopicPartition: Int64] = [:]
        let partitions = [tp("orders", 0), tp("orders", 1), tp("payments", 0)]
        for step in 0..<3_000 {
            let partition = partitions.randomElement(using: &generator) ?? orders0
            source[partition, default: 0] += Int64.random(in: 0...100, using: &generator) < 10 ? Int64.random(in: 1...5, using: &generator) : 0
            target[partition, default: 0] += Int64.random(in: 0...100, using: &generator) < 3 ? 7 : 0
            try map.record(partition, sourceOffset: Offset(source[partition, default: 0]), targetOffset: Offset(target[partition, default: 0]))
            source[partition, default: 0] += 1
            target[partition, default: 0] += 1
            if step % 97 == 0 {
                source[partition, default: 0] += 3
                map.advanceSourceEnd(partition, to: Offset(source[partition, default: 0]))
            }
            if step % 500 == 499 { map.prune(partition, belowSource: Offset(source[partition, default: 0] / 3)) }
            if step % 37 == 0 { stored += map.takeUpdates() }
        }
        stored += map.takeUpdates()
        var rebuilt = OffsetMap(flow: map.flow)
        for update in stored { try rebuilt.apply(update) }
        #expect(rebuilt == map)
        var fromSnapshot = OffsetMap(flow: map.flow)
        for update in map.snapshot { try fromSnapshot.apply(update) }
        #expect(fromSnapshot == map)
        #expect(map.snapshot.count < stored.count)
        #expect(throws: MirrorError.self) {
            var other = OffsetMap(flow: FlowID(from: dcB, to: dcA))
            try other.apply(stored[0])
        }
    }

    @Test("catching up a stale map from the target's headers")
    func catchUpFromTarget() throws {
        let flow = FlowID(from: dcA, to: dcB)
        func copy(_ source: Int64, from site: SiteID = dcA, partition: PartitionID = 0) -> [RecordHeader] {
            Provenance.headersForCopy(existing: [], sourceSite: site, topic: topic("orders"), partition: partition, offset: Offset(source))
        }
        var map = OffsetMap(flow: flow)
        for s in Int64(0)..<10 { try map.record(orders0, sourceOffset: Offset(s), targetOffset: Offset(s)) }
        #expect(map.catchUpStart(for: orders0) == 10)
        #expect(map.catchUpStart(for: tp("orders", 9)) == 0)
        // Target log after the stored map: a replay, two copies, a local record, a foreign copy,
        // a copy of another partition, a malformed header, one more copy after a source gap.
        let records: [(offset: Offset, headers: [RecordHeader])] = [
            (9, copy(9)), (10, copy(10)), (11, copy(11)), (12, []), (13, copy(12, from: dcC)), (14, copy(12, partition: 1)),
            (15, [RecordHeader(key: Provenance.sourceKey, value: bytes("dc-a/orders/0"))]), (16, copy(14)),
        ]
        #expect(try map.recordCopies(of: orders0, inTargetRecords: records) == 3)
        #expect(map[orders0].ranges == [
            MappedRange(sourceStart: 0, targetStart: 0, count: 12)!, MappedRange(sourceStart: 14, targetStart: 16, count: 1)!,
        ])
        #expect(throws: MirrorError.self) {
            try map.recordCopies(of: orders0, inTargetRecords: [(offset: Offset(17), headers: copy(5))])
        }
    }
}
