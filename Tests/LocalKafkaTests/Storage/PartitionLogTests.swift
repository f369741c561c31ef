import Foundation
import KafkaWire
import NIOCore
import Testing
import TestSupport
@testable import LocalKafka

@Suite struct PartitionLogTests {
    @Test func appendsAndReadsAcrossSegmentRolls() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 2048)
            defer { store.close() }
            _ = try store.createTopic("orders", partitions: 1, configs: [:])
            let log = try #require(store.partition("orders", 0))
            var expected: [(Int64, String)] = []
            for batch in 0..<120 {
                let count = batch % 3 + 1
                let result = try log.append(makeBatch(count: count, prefix: "b\(batch)"), nowMs: 5)
                #expect(result.baseOffset == Int64(expected.count))
                #expect(result.lastOffset == Int64(expected.count + count - 1))
                #expect(!result.wasDuplicate)
                #expect(result.logAppendTimeMs == -1)
                for index in 0..<count { expected.append((Int64(expected.count), "b\(batch)-\(index)")) }
            }
            #expect(log.logEndOffset == Int64(expected.count))
            #expect(try segmentFiles(directory, "orders", 0).count > 3)
            let values = try readAll(log)
            #expect(values.map(\.offset) == expected.map(\.0))
            #expect(values.map(\.value) == expected.map(\.1))
        }
    }

    @Test func readStartsWithTheBatchHoldingTheOffset() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let partition = try #require(store.partition("t", 0))
            _ = try partition.append(makeBatch(count: 5, prefix: "a"), nowMs: 0)
            _ = try partition.append(makeBatch(count: 5, prefix: "b"), nowMs: 0)
            let result = try partition.read(from: 7, maxBytes: 1)
            let batches = try RecordBatchSequence(splitting: result.records).batches
            // The first batch is returned whole even though maxBytes is tiny.
            #expect(batches.map(\.header.baseOffset) == [5])
            #expect(result.highWatermark == 10)
            #expect(try decodeValues(result.records).map(\.value).first == "b-0")
            let all = try partition.read(from: 0, maxBytes: 1 << 20)
            #expect(try RecordBatchSequence(splitting: all.records).batches.count == 2)
            #expect(try partition.read(from: 10, maxBytes: 100).records.readableBytes == 0)
            #expect(throws: StorageError.self) { try partition.read(from: 11, maxBytes: 100) }
            #expect(throws: StorageError.self) { try partition.read(from: -1, maxBytes: 100) }
        }
    }

    @Test func storedBatchesAreByteForByteAsProducedExceptBaseOffset() throws {
        try withPartition { directory, store, log in
            _ = try log.append(makeBatch(count: 2), nowMs: 0)
            var produced = makeBatch(count: 3, prefix: "x")
            produced.setInteger(Int64(999), at: 0)
            _ = try log.append(produced, nowMs: 0)
            var stored = try log.read(from: 2, maxBytes: 1 << 20).records
            #expect(stored.getInteger(at: 0, as: Int64.self) == 2)
            stored.setInteger(Int64(999), at: 0)
            #expect(stored == produced)
        }
    }

    @Test func rejectsInvalidBatches() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["max.message.bytes": "200"])
            let log = try #require(store.partition("t", 0))
            var corrupt = makeBatch(count: 2)
            corrupt.setInteger(UInt8(0xEE), at: corrupt.writerIndex - 3)
            #expect(performing: { try log.append(corrupt, nowMs: 0) }, throws: { ($0 as? StorageError)?.code == .corruptRecord })
            #expect(performing: { try log.append(makeBatch(count: 20), nowMs: 0) }, throws: { ($0 as? StorageError)?.code == .messageTooLarge })
            #expect(performing: { try log.append(ByteBuffer(bytes: [1, 2, 3]), nowMs: 0) }, throws: { ($0 as? StorageError)?.code == .corruptRecord })
            let marker = RecordBatchBuilder.transactionMarker(producerId: 1, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: 0)
            #expect(performing: { try log.append(marker.build(), nowMs: 0) }, throws: { ($0 as? StorageError)?.code == .invalidRecord })
            #expect(log.logEndOffset == 0)
            #expect(try log.append(marker.build(), nowMs: 0, origin: .coordinator).baseOffset == 0)
        }
    }

    @Test func readsAcrossSegmentsAfterRestart() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory, segmentBytes: 1024)
                _ = try store.createTopic("t", partitions: 2, configs: [:])
                for index in 0..<60 { _ = try store.partition("t", Int32(index % 2))?.append(makeBatch(count: 2, prefix: "v\(index)"), nowMs: 0) }
                store.close()
            }
            let store = try openStore(directory, segmentBytes: 1024)
            defer { store.close() }
            for partition in 0..<2 {
                let log = try #require(store.partition("t", Int32(partition)))
                #expect(log.logEndOffset == 60)
                let values = try readAll(log, maxBytes: 300)
                #expect(values.map(\.offset) == Array(0..<60))
                #expect(values.first?.value == "v\(partition)-0")
                #expect(values.last?.value == "v\(58 + partition)-1")
            }
        }
    }

    @Test func offsetForTimestampFindsTheFirstRecordAtOrAfter() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 1024)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            // Batch i holds records at 10_000 + 100 i + 0...3.
            for batch in 0..<50 { _ = try log.append(makeBatch(count: 4, timestamp: 10_000 + Int64(batch) * 100), nowMs: 0) }
            #expect(log.offset(forTimestamp: 0)?.offset == 0)
            #expect(log.offset(forTimestamp: 10_000 + 2_500)?.offset == 100)
            #expect(log.offset(forTimestamp: 10_000 + 2_502)?.offset == 102)
            #expect(log.offset(forTimestamp: 10_000 + 2_502)?.timestamp == 12_502)
            #expect(log.offset(forTimestamp: 10_000 + 2_504)?.offset == 104)
            #expect(log.offset(forTimestamp: 20_000) == nil)
            _ = try log.deleteRecords(before: 150)
            #expect(log.offset(forTimestamp: 0)?.offset == 150)
        }
    }

    @Test func severalBatchesInOneRequestGetConsecutiveOffsets() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            var request = makeBatch(count: 2, prefix: "a")
            request.writeImmutableBuffer(makeBatch(count: 3, prefix: "b"))
            request.writeImmutableBuffer(makeBatch(count: 1, prefix: "c"))
            let result = try log.append(request, nowMs: 0)
            #expect(result.baseOffset == 0 && result.lastOffset == 5)
            #expect(try readAll(log).map(\.value) == ["a-0", "a-1", "b-0", "b-1", "b-2", "c-0"])
            // One bad batch rejects the whole request.
            var bad = makeBatch(count: 1)
            var corrupt = makeBatch(count: 1)
            corrupt.setInteger(UInt8(1), at: corrupt.writerIndex - 1)
            bad.writeImmutableBuffer(corrupt)
            #expect(throws: StorageError.self) { try log.append(bad, nowMs: 0) }
            #expect(log.logEndOffset == 6)
        }
    }

    @Test func seededGarbageIsRejectedWithoutChangingTheLog() throws {
        try withPartition { directory, store, log in
            _ = try log.append(makeBatch(count: 2), nowMs: 0)
            let valid = makeBatch(count: 3)
            var generator = SeededGenerator(seed: 11)
            var accepted = 0
            for round in 0..<2000 {
                var bytes = valid
                if round % 4 == 0 {
                    bytes = ByteBuffer(bytes: (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
                } else {
                    for _ in 0..<Int.random(in: 1...4, using: &generator) {
                        let position = Int.random(in: 0..<bytes.readableBytes, using: &generator)
                        bytes.setInteger(UInt8.random(in: 0...255, using: &generator), at: position)
                    }
                }
                let before = log.logEndOffset
                if let result = try? log.append(bytes, nowMs: 0) {
                    // Only damage the CRC does not cover (baseOffset, leader epoch) may pass.
                    accepted += 1
                    #expect(result.baseOffset == before)
                } else {
                    #expect(log.logEndOffset == before)
                }
            }
            #expect(try readAll(log).count == Int(log.logEndOffset))
            #expect(accepted < 2000)
        }
    }

    @Test func sparseIndexFindsEveryOffsetAndIsRebuiltIdentically() throws {
        try withTemporaryDirectory { directory in
            let indexFile = directory.appendingPathComponent("topics/t-0/00000000000000000000.index")
            let written: Data
            do {
                let store = try openStore(directory)
                _ = try store.createTopic("t", partitions: 1, configs: [:])
                let log = try #require(store.partition("t", 0))
                for batch in 0..<400 { _ = try log.append(makeBatch(count: 2, prefix: "b\(batch)"), nowMs: 0) }
                written = try Data(contentsOf: indexFile)
                #expect(written.count / OffsetIndex.entrySize >= 8)
                // Crash: the next open rebuilds the index by scanning.
            }
            try Data().write(to: indexFile)
            let store = try openStore(directory)
            defer { store.close() }
            #expect(try Data(contentsOf: indexFile) == written)
            let log = try #require(store.partition("t", 0))
            for offset in stride(from: Int64(0), to: 800, by: 7) {
                let batches = try RecordBatchSequence(splitting: log.read(from: offset, maxBytes: 1).records).batches
                #expect(batches.count == 1)
                #expect(batches.first.map { $0.header.baseOffset...$0.header.lastOffset }?.contains(offset) == true, "offset \(offset)")
            }
        }
    }

    @Test func intervalPolicyDefersFsyncToFlush() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, fsync: .interval)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            _ = try log.append(makeBatch(), nowMs: 0)
            #expect(log.activeSegment.hasUnsyncedWrites)
            try store.flush()
            #expect(!log.activeSegment.hasUnsyncedWrites)
            let always = try openStore(directory.appendingPathComponent("other"), fsync: .always)
            defer { always.close() }
            _ = try always.createTopic("t", partitions: 1, configs: [:])
            _ = try always.partition("t", 0)?.append(makeBatch(), nowMs: 0)
            #expect(always.partition("t", 0)?.activeSegment.hasUnsyncedWrites == false)
        }
    }

    #if os(Linux)
    @Test func sealedSegmentsHoldNoFileDescriptors() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 300)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            let partitionDirectory = directory.appendingPathComponent("topics/t-0").path
            func descriptorsIntoPartition() throws -> Int {
                try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { name in
                    let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)
                    return target?.hasPrefix(partitionDirectory) == true
                }.count
            }
            for _ in 0..<100 { _ = try log.append(makeBatch(count: 2), nowMs: 0) }
            #expect(try segmentFiles(directory, "t", 0).count > 20)
            #expect(try descriptorsIntoPartition() == 2)
            #expect(try readAll(log).count == 200)
            #expect(try descriptorsIntoPartition() == 2)
        }
    }
    #endif
}
