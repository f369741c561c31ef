import Foundation
import KafkaWire
import NIOCore
import Testing
import TestSupport
@testable import LocalKafka

/// Recovery after crashes, simulated by dropping the store without `close()` (no clean-shutdown
/// marker, exactly what `kill -9` leaves) and damaging the files on disk.
@Suite struct RecoveryTests {
    /// Writes `batches` two-record batches to `t-0` and "crashes".
    private func writeAndCrash(_ directory: URL, batches: Int, segmentBytes: Int = 64 * 1024 * 1024) throws -> [Int] {
        let store = try openStore(directory, segmentBytes: segmentBytes)
        _ = try store.createTopic("t", partitions: 1, configs: [:])
        var sizes: [Int] = []
        for index in 0..<batches {
            let batch = makeBatch(count: 2, prefix: "v\(index)")
            sizes.append(batch.readableBytes)
            _ = try store.partition("t", 0)?.append(batch, nowMs: 0)
        }
        return sizes
    }

    @Test func recoversEverythingAfterACrash() throws {
        try withTemporaryDirectory { directory in
            _ = try writeAndCrash(directory, batches: 40, segmentBytes: 1000)
            let store = try openStore(directory, segmentBytes: 1000)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(log.logEndOffset == 80)
            #expect(try readAll(log).map(\.offset) == Array(0..<80))
        }
    }

    @Test func tornTailIsCutAtEveryTruncationPoint() throws {
        try withTemporaryDirectory { directory in
            let sizes = try writeAndCrash(directory, batches: 4)
            let segment = try #require(try segmentFiles(directory, "t", 0).first)
            let pristine = try Data(contentsOf: segment)
            let lastStart = sizes.dropLast().reduce(0, +)
            var generator = SeededGenerator(seed: 7)
            var cuts = Array(lastStart..<pristine.count).shuffled(using: &generator).prefix(25)
            cuts.append(lastStart + 1)
            for cut in cuts {
                try pristine.prefix(cut).write(to: segment)
                let store = try openStore(directory)
                let log = try #require(store.partition("t", 0))
                #expect(log.logEndOffset == 6, "cut at \(cut)")
                #expect(try fileSize(segment) == lastStart, "cut at \(cut)")
                let next = try log.append(makeBatch(count: 2, prefix: "after"), nowMs: 0)
                #expect(next.baseOffset == 6)
                #expect(try readAll(log).map(\.value).suffix(2) == ["after-0", "after-1"])
                // Leave an unclean state for the next round, restored to the pristine bytes.
                store.close()
                try FileManager.default.removeItem(at: directory.appendingPathComponent("clean-shutdown"))
            }
        }
    }

    @Test func garbageAfterTheLastBatchIsCut() throws {
        try withTemporaryDirectory { directory in
            let sizes = try writeAndCrash(directory, batches: 3)
            let segment = try #require(try segmentFiles(directory, "t", 0).first)
            var generator = SeededGenerator(seed: 99)
            try appendBytes(segment, (0..<700).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let store = try openStore(directory)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(log.logEndOffset == 6)
            #expect(try fileSize(segment) == sizes.reduce(0, +))
            #expect(try log.append(makeBatch(), nowMs: 0).baseOffset == 6)
        }
    }

    @Test func zeroFilledTailIsCut() throws {
        // What a file system may show after a crash that extended the file but lost the data.
        try withTemporaryDirectory { directory in
            _ = try writeAndCrash(directory, batches: 3)
            let segment = try #require(try segmentFiles(directory, "t", 0).first)
            try appendBytes(segment, [UInt8](repeating: 0, count: 4096))
            let store = try openStore(directory)
            defer { store.close() }
            #expect(store.partition("t", 0)?.logEndOffset == 6)
        }
    }

    @Test func flippedByteInTheLastBatchIsDetectedAndCut() throws {
        try withTemporaryDirectory { directory in
            let sizes = try writeAndCrash(directory, batches: 3)
            let segment = try #require(try segmentFiles(directory, "t", 0).first)
            // A byte inside the records of the last batch: only the CRC can notice.
            try flipByte(segment, at: sizes.reduce(0, +) - 5)
            let store = try openStore(directory)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(log.logEndOffset == 4)
            #expect(try fileSize(segment) == sizes[0] + sizes[1])
            #expect(try readAll(log).map(\.value) == ["v0-0", "v0-1", "v1-0", "v1-1"])
        }
    }

    @Test func corruptionInAnEarlierSegmentDropsEverythingAfterIt() throws {
        try withTemporaryDirectory { directory in
            _ = try writeAndCrash(directory, batches: 30, segmentBytes: 600)
            let segments = try segmentFiles(directory, "t", 0)
            #expect(segments.count >= 4)
            try flipByte(segments[1], at: try fileSize(segments[1]) - 3)
            let store = try openStore(directory, segmentBytes: 600)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            let remaining = try segmentFiles(directory, "t", 0)
            #expect(remaining.count == 2)
            #expect(try readAll(log).map(\.offset) == Array(0..<log.logEndOffset))
            #expect(try log.append(makeBatch(), nowMs: 0).baseOffset == log.logEndOffset - 1)
        }
    }

    @Test func damagedIndexIsRebuiltAfterCleanShutdown() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory, segmentBytes: 1 << 20)
                _ = try store.createTopic("t", partitions: 1, configs: [:])
                for index in 0..<200 { _ = try store.partition("t", 0)?.append(makeBatch(count: 3, prefix: "v\(index)"), nowMs: 0) }
                store.close()
            }
            let index = directory.appendingPathComponent("topics/t-0/00000000000000000000.index")
            #expect(try fileSize(index) > 16)
            try appendBytes(index, [1, 2, 3])
            let store = try openStore(directory, segmentBytes: 1 << 20)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(log.logEndOffset == 600)
            #expect(try decodeValues(log.read(from: 451, maxBytes: 1).records).first?.value == "v150-0")
            #expect(try fileSize(index) % 16 == 0)
        }
    }

    @Test func logStartOffsetAndIndexSurviveCleanRestart() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory, segmentBytes: 1024)
                _ = try store.createTopic("t", partitions: 1, configs: [:])
                for index in 0..<50 { _ = try store.partition("t", 0)?.append(makeBatch(count: 2, prefix: "v\(index)"), nowMs: 0) }
                #expect(try store.partition("t", 0)?.deleteRecords(before: 33) == 33)
                store.close()
            }
            let store = try openStore(directory, segmentBytes: 1024)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(log.logStartOffset == 33)
            #expect(log.logEndOffset == 100)
            #expect(throws: StorageError.self) { try log.read(from: 32, maxBytes: 100) }
            #expect(try readAll(log).first?.value == "v16-1")
        }
    }
}
