import Foundation
import KafkaWire
import NIOCore
import Testing
import TestSupport
@testable import LocalKafka

/// The log cleaner on real segment files, with time injected as `nowMs`.
@Suite struct CompactionTests {
    static let compacted = ["cleanup.policy": "compact"]

    /// Writes `count` one-record batches cycling over `keys` keys; returns what was written.
    private func writeCycling(
        _ log: PartitionLog, count: Int, keys: Int, prefix: String = "v", timestamp: Int64 = 1_000
    ) throws -> [KeyedRecord] {
        var written: [KeyedRecord] = []
        for index in 0..<count {
            let key = "k\(index % keys)"
            let value = "\(prefix)\(index)"
            let result = try log.append(keyedBatch([(key, value)], timestamp: timestamp), nowMs: 0)
            written.append(KeyedRecord(offset: result.baseOffset, key: key, value: value, timestamp: timestamp))
        }
        return written
    }

    @Test func keepsTheLatestRecordPerKeyAtItsOriginalOffset() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 400)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
            let log = try #require(store.partition("t", 0))
            let written = try writeCycling(log, count: 60, keys: 5)
            #expect(log.segments.count > 3)
            let activeBase = log.activeSegment.baseOffset
            let headersBefore = try storedBatches(directory, "t", 0).map(\.header)

            let report = try store.compact(topic: "t", nowMs: 0)

            let expected = expectedAfterCompaction(written, activeBase: activeBase)
            #expect(try readKeyed(log) == expected)
            #expect(report.recordsRemoved == written.count - expected.count)
            #expect(report.partitions.first?.bytesAfter ?? 0 < report.partitions.first?.bytesBefore ?? 0)
            #expect(log.logEndOffset == 60)
            #expect(log.logStartOffset == 0)
            // Every kept batch is the one written, at its offset, with a valid CRC.
            let after = try storedBatches(directory, "t", 0)
            #expect(after.allSatisfy { $0.crcValid })
            #expect(after.allSatisfy { kept in headersBefore.contains(kept.header) })
            #expect(try log.append(keyedBatch([("k0", "next")]), nowMs: 0).baseOffset == 60)
        }
    }

    @Test func rewrittenBatchesKeepOffsetGapsInsideAndTheirLastOffsetDelta() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
            let log = try #require(store.partition("t", 0))
            _ = try log.append(keyedBatch([("a", "a0"), ("b", "b0"), ("c", "c0"), ("d", "d0")]), nowMs: 0)
            // b and c are overwritten, the tail d stays: then a and d go, c stays.
            for round in 0..<8 { _ = try log.append(keyedBatch([("b", "b\(round + 1)"), ("c", "c\(round + 1)")]), nowMs: 0) }
            #expect(log.segments.count > 2)
            _ = try store.compact(topic: "t", nowMs: 0)

            let first = try #require(try storedBatches(directory, "t", 0).first)
            #expect(first.header.baseOffset == 0)
            #expect(first.header.lastOffsetDelta == 3)
            #expect(first.header.recordsCount == 2)
            #expect(first.crcValid)
            let records = try readKeyed(log)
            #expect(records.prefix(2) == [KeyedRecord(offset: 0, key: "a", value: "a0"), KeyedRecord(offset: 3, key: "d", value: "d0")])
            // A read at a removed offset inside the batch answers with the batch; the consumer
            // skips records before its position and moves past the batch's last offset.
            #expect(try readKeyed(log, from: 1).first?.offset ?? -1 > 1)
        }
    }

    @Test func theActiveSegmentIsNeverTouched() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 400)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
            let log = try #require(store.partition("t", 0))
            // A single (active) segment full of overwrites is left alone.
            _ = try writeCycling(log, count: 5, keys: 1)
            #expect(log.segments.count == 1)
            #expect(try store.compact(topic: "t", nowMs: 0).partitions.isEmpty)
            #expect(try readKeyed(log).count == 5)

            _ = try writeCycling(log, count: 40, keys: 3)
            let active = try #require(try segmentFiles(directory, "t", 0).last)
            let activeBytes = try Data(contentsOf: active)
            _ = try store.compact(topic: "t", nowMs: 0)
            #expect(try Data(contentsOf: active) == activeBytes)
            // Keys written again in the active segment are gone from the closed ones.
            let closed = try readKeyed(log).filter { $0.offset < log.activeSegment.baseOffset }
            let activeKeys = Set(try readKeyed(log, from: log.activeSegment.baseOffset).compactMap(\.key))
            #expect(closed.allSatisfy { !activeKeys.contains($0.key ?? "") })
        }
    }

    @Test func tombstonesStayForDeleteRetentionThenGo() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["cleanup.policy": "compact", "delete.retention.ms": "10000"])
            let log = try #require(store.partition("t", 0))
            _ = try log.append(keyedBatch([("gone", "alive")], timestamp: 1_000), nowMs: 0)
            let tombstone = try log.append(keyedBatch([("gone", nil)], timestamp: 5_000), nowMs: 0).baseOffset
            _ = try writeCycling(log, count: 20, keys: 20, timestamp: 5_000)
            #expect(tombstone < log.activeSegment.baseOffset)

            let early = try store.compact(topic: "t", nowMs: 15_000)
            #expect(early.partitions.first?.tombstonesRemoved == 0)
            #expect(try readKeyed(log).filter { $0.key == "gone" } == [KeyedRecord(offset: tombstone, key: "gone", value: nil, timestamp: 5_000)])
            // The periodic cleaner knows when the tombstone comes due.
            #expect(!log.needsCompaction(nowMs: 15_000))
            #expect(log.needsCompaction(nowMs: 15_001))

            let late = try store.compact(topic: "t", nowMs: 15_001)
            #expect(late.partitions.first?.tombstonesRemoved == 1)
            #expect(try readKeyed(log).filter { $0.key == "gone" }.isEmpty)
        }
    }

    @Test(arguments: ["-1", "ten", "9223372036854775808"])
    func deleteRetentionMustBeANonNegativeInteger(value: String) throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            #expect(throws: StorageError.self) {
                _ = try store.createTopic("t", partitions: 1, configs: ["delete.retention.ms": value])
            }
            _ = try store.createTopic("ok", partitions: 1, configs: ["delete.retention.ms": "0"])
            #expect(store.effectiveConfigs("ok")?.first { $0.name == "delete.retention.ms" }?.value == "0")
            _ = try store.createTopic("default", partitions: 1, configs: [:])
            #expect(store.effectiveConfigs("default")?.first { $0.name == "delete.retention.ms" }?.value == "86400000")
        }
    }

    @Test func everyFetchAtARemovedOffsetAnswersWithTheNextRecord() throws {
        try withTemporaryDirectory { directory in
            // Large values so the sparse index has several entries per segment.
            let store = try openStore(directory, segmentBytes: 20_000)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
            let log = try #require(store.partition("t", 0))
            let padding = String(repeating: "x", count: 600)
            var written: [KeyedRecord] = []
            for index in 0..<120 {
                let key = index % 7 == 0 ? "stable\(index)" : "hot\(index % 3)"
                let value = "\(index)-\(padding)"
                written.append(KeyedRecord(offset: try log.append(keyedBatch([(key, value)]), nowMs: 0).baseOffset, key: key, value: value))
            }
            #expect(log.segments.first?.index.entries.count ?? 0 > 2)
            let expected = expectedAfterCompaction(written, activeBase: log.activeSegment.baseOffset)
            _ = try store.compact(topic: "t", nowMs: 0)
            for offset in Int64(0)..<log.logEndOffset {
                let records = try decodeKeyed(try log.read(from: offset, maxBytes: 1).records, from: offset).records
                #expect(records.first?.offset == expected.first { $0.offset >= offset }?.offset, "fetch at \(offset)")
            }
        }
    }

    @Test(arguments: [true, false])
    func aCompactedLogSurvivesARestart(cleanShutdown: Bool) throws {
        try withTemporaryDirectory { directory in
            let expected: [KeyedRecord]
            do {
                let store = try openStore(directory, segmentBytes: 400)
                _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
                let log = try #require(store.partition("t", 0))
                _ = try writeCycling(log, count: 60, keys: 4)
                _ = try store.compact(topic: "t", nowMs: 0)
                expected = try readKeyed(log)
                if cleanShutdown { store.close() }
            }
            let store = try openStore(directory, segmentBytes: 400)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(try readKeyed(log) == expected)
            #expect(log.logEndOffset == 60)
            #expect(try store.compact(topic: "t", nowMs: 0).recordsRemoved == 0)
            #expect(try log.append(keyedBatch([("k0", "after")]), nowMs: 0).baseOffset == 60)
        }
    }

    @Test func aCrashInTheMiddleOfACleaningLeavesAValidLog() throws {
        try withTemporaryDirectory { directory in
            let written: [KeyedRecord]
            let before: URL
            let compacted: [KeyedRecord]
            do {
                let store = try openStore(directory, segmentBytes: 400)
                _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
                let log = try #require(store.partition("t", 0))
                written = try writeCycling(log, count: 60, keys: 4)
                before = try snapshotPartition(directory, "t", 0)
                _ = try store.compact(topic: "t", nowMs: 0)
                compacted = try readKeyed(log)
                // Crash: the store is dropped without close().
            }
            let partitionDirectory = directory.appendingPathComponent("topics/t-0")
            let segments = try segmentFiles(directory, "t", 0).map(\.lastPathComponent)
            let manager = FileManager.default
            // The crash struck after the first segment was renamed into place and before its index
            // was rebuilt or the second segment replaced: the first segment's index and every
            // later segment are the originals, and a half-written replacement is still in its
            // temporary file.
            for name in try manager.contentsOfDirectory(atPath: before.path) where name != segments[0] {
                try? manager.removeItem(at: partitionDirectory.appendingPathComponent(name))
                try manager.copyItem(at: before.appendingPathComponent(name), to: partitionDirectory.appendingPathComponent(name))
            }
            let halfWritten = try Data(contentsOf: partitionDirectory.appendingPathComponent(segments[0])).prefix(50)
            try halfWritten.write(to: partitionDirectory.appendingPathComponent(".replacing.tmp"))

            let store = try openStore(directory, segmentBytes: 400)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(!manager.fileExists(atPath: partitionDirectory.appendingPathComponent(".replacing.tmp").path))
            #expect(log.logEndOffset == 60)
            // Every key still reads its latest value, and a second cleaning finishes the job.
            let recovered = try readKeyed(log)
            var latest: [String: String?] = [:]
            for record in written { latest[record.key ?? ""] = record.value }
            for (key, value) in latest { #expect(recovered.last { $0.key == key }?.value == value, "key \(key)") }
            #expect(recovered.map(\.offset) == recovered.map(\.offset).sorted())
            _ = try store.compact(topic: "t", nowMs: 0)
            #expect(try readKeyed(log) == compacted)
        }
    }

    @Test(arguments: [true, false])
    func idempotentProducerStateSurvivesCompactionAndACrash(cleanShutdown: Bool) throws {
        try withTemporaryDirectory { directory in
            let retried = keyedBatch([("p", "p3"), ("q", "q3")], producerId: 7, epoch: 0, sequence: 2)
            do {
                let store = try openStore(directory, segmentBytes: 300)
                _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
                let log = try #require(store.partition("t", 0))
                _ = try log.append(keyedBatch([("p", "p1"), ("q", "q1")], producerId: 7, epoch: 0, sequence: 0), nowMs: 0)
                _ = try log.append(retried, nowMs: 0)
                // Another producer overwrites both keys: every record of producer 7 is obsolete.
                _ = try writeCycling(log, count: 12, keys: 12)
                _ = try log.append(keyedBatch([("p", "new"), ("q", "new")]), nowMs: 0)
                _ = try writeCycling(log, count: 10, keys: 10, prefix: "w")
                _ = try store.compact(topic: "t", nowMs: 0)
                // The producer's last batch stays, emptied; its first is gone.
                let batches = try storedBatches(directory, "t", 0).filter { $0.header.producerId == 7 }
                #expect(batches.map(\.header.recordsCount) == [0])
                #expect(batches.first?.header.baseSequence == 2)
                #expect(batches.first?.header.lastOffsetDelta == 1)
                #expect(try readKeyed(log).allSatisfy { $0.value != "p3" && $0.value != "p1" })
                if cleanShutdown { store.close() }
            }
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            // A retry of the producer's last batch is still recognised; its next batch is accepted.
            #expect(try log.append(retried, nowMs: 0).wasDuplicate)
            let next = keyedBatch([("p", "p5")], producerId: 7, epoch: 0, sequence: 4)
            #expect(try !log.append(next, nowMs: 0).wasDuplicate)
            #expect(throws: StorageError.self) {
                _ = try log.append(keyedBatch([("p", "gap")], producerId: 7, epoch: 0, sequence: 9), nowMs: 0)
            }
        }
    }

    @Test func controlAndTransactionalBatchesAreKeptAsTheyAre() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
            let log = try #require(store.partition("t", 0))
            _ = try log.append(keyedBatch([("a", "in-txn")], producerId: 3, epoch: 0, sequence: 0, transactional: true), nowMs: 0)
            let marker = RecordBatchBuilder.transactionMarker(producerId: 3, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: 1_000)
            _ = try log.append(marker.build(), nowMs: 0, origin: .coordinator)
            _ = try writeCycling(log, count: 20, keys: 1)
            let special = { () throws -> [RecordBatchHeader] in
                try storedBatches(directory, "t", 0).map(\.header).filter { $0.isTransactional || $0.isControl }
            }
            let before = try special()
            #expect(before.count == 2)
            #expect(try store.compact(topic: "t", nowMs: 0).recordsRemoved > 0)
            #expect(try special() == before)
        }
    }

    @Test func nullKeysAreRefusedOnCompactedTopicsAndDroppedByTheCleaner() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            for index in 0..<10 { _ = try log.append(keyedBatch([(nil, "keyless\(index)")]), nowMs: 0) }
            _ = try writeCycling(log, count: 10, keys: 10)

            try store.alterConfigs("t", replacingWith: Self.compacted)
            #expect {
                _ = try log.append(keyedBatch([("k", "fine"), (nil, "keyless")]), nowMs: 0)
            } throws: { error in
                (error as? StorageError)?.code == .invalidRecord && "\(error)".contains("without a key")
            }
            _ = try store.compact(topic: "t", nowMs: 0)
            let records = try readKeyed(log)
            #expect(records.filter { $0.offset < log.activeSegment.baseOffset }.allSatisfy { $0.key != nil })
            #expect(records.filter { $0.key != nil }.count == 10)
            #expect(records.contains { $0.key == nil && $0.offset < 10 } == false || log.activeSegment.baseOffset < 10)
        }
    }

    @Test func onlyCompactedTopicsAreCompactedAndCompactDeleteAlsoExpires() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("plain", partitions: 1, configs: [:])
            #expect(throws: StorageError.self) { _ = try store.compact(topic: "plain", nowMs: 0) }
            #expect(throws: StorageError.self) { _ = try store.compact(topic: "missing", nowMs: 0) }

            _ = try store.createTopic("both", partitions: 2, configs: ["cleanup.policy": "compact,delete", "retention.ms": "1000"])
            let log = try #require(store.partition("both", 1))
            _ = try writeCycling(log, count: 20, keys: 2, timestamp: 1_000)
            _ = try writeCycling(log, count: 20, keys: 40, prefix: "new", timestamp: 90_000)
            #expect(try store.compact(topic: "both", nowMs: 0).partitions.map(\.partition) == [1])
            store.enforceRetention(nowMs: 90_500)
            #expect(log.logStartOffset > 0)
            #expect(try readKeyed(log).allSatisfy { $0.value?.hasPrefix("new") == true })
        }
    }

    @Test func thePeriodicCleanerSkipsPartitionsWithNothingNew() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
            _ = try store.createTopic("plain", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            _ = try writeCycling(log, count: 30, keys: 3)
            _ = try writeCycling(try #require(store.partition("plain", 0)), count: 30, keys: 3)

            let first = store.compactChangedPartitions(nowMs: 0)
            #expect(first.map(\.topic) == ["t"])
            #expect(first.first?.recordsRemoved ?? 0 > 0)
            #expect(store.compactChangedPartitions(nowMs: 0).isEmpty)
            _ = try writeCycling(log, count: 30, keys: 3)
            #expect(store.compactChangedPartitions(nowMs: 0).first?.recordsRemoved ?? 0 > 0)
        }
    }
}
