import Foundation
import KafkaWire
import NIOCore
import Testing
@testable import LocalKafka

@Suite struct RetentionTests {
    @Test func timeRetentionDeletesWholeExpiredSegmentsOnly() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 500)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["retention.ms": "1000"])
            let log = try #require(store.partition("t", 0))
            // Old records at t=1_000, then new ones at t=50_000.
            for _ in 0..<20 { _ = try log.append(makeBatch(count: 2, timestamp: 1_000), nowMs: 0) }
            let firstNew = log.logEndOffset
            for _ in 0..<20 { _ = try log.append(makeBatch(count: 2, timestamp: 50_000), nowMs: 0) }
            let segmentsBefore = try segmentFiles(directory, "t", 0).count
            store.enforceRetention(nowMs: 50_500)
            let remaining = try segmentFiles(directory, "t", 0)
            #expect(remaining.count < segmentsBefore)
            // Whole segments only: the first remaining segment may still hold old records.
            #expect(log.logStartOffset <= firstNew)
            #expect(log.logStartOffset > 0)
            #expect(remaining.first?.lastPathComponent == LogSegment.fileName(log.logStartOffset, ".log"))
            #expect(try readAll(log).first?.offset == log.logStartOffset)
            // Even when everything is expired the active segment stays.
            store.enforceRetention(nowMs: 10_000_000)
            #expect(try segmentFiles(directory, "t", 0).count == 1)
            #expect(log.logEndOffset == 80)
            #expect(try log.append(makeBatch(), nowMs: 0).baseOffset == 80)
        }
    }

    @Test(arguments: [true, false])
    func timeRetentionWorksAfterRestart(cleanShutdown: Bool) throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory, segmentBytes: 500)
                _ = try store.createTopic("t", partitions: 1, configs: ["retention.ms": "1000"])
                for _ in 0..<20 { _ = try store.partition("t", 0)?.append(makeBatch(count: 2, timestamp: 1_000), nowMs: 0) }
                for _ in 0..<5 { _ = try store.partition("t", 0)?.append(makeBatch(count: 2, timestamp: 90_000), nowMs: 0) }
                if cleanShutdown { store.close() }
            }
            let store = try openStore(directory, segmentBytes: 500)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            store.enforceRetention(nowMs: 89_000)
            #expect(log.logStartOffset > 0)
            #expect(log.logStartOffset <= 40)
            store.enforceRetention(nowMs: 91_500)
            #expect(log.logEndOffset == 50)
            #expect(try segmentFiles(directory, "t", 0).count == 1)
        }
    }

    @Test func sizeRetentionKeepsTheNewestBytes() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 1000)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["retention.bytes": "2500"])
            let log = try #require(store.partition("t", 0))
            for _ in 0..<60 { _ = try log.append(makeBatch(count: 2), nowMs: 0) }
            #expect(log.sizeInBytes > 2500)
            store.enforceRetention(nowMs: 0)
            // Kafka's rule: delete the oldest segment while the log stays at or above the limit
            // without it; what remains exceeds the limit by less than its oldest segment.
            #expect(log.sizeInBytes - log.segments[0].size < 2500)
            #expect(log.sizeInBytes >= 2500)
            #expect(log.logStartOffset > 0)
            #expect(log.logEndOffset == 120)
            #expect(performing: { try log.read(from: 0, maxBytes: 10) }, throws: { ($0 as? StorageError)?.code == .offsetOutOfRange })
        }
    }

    @Test func defaultRetentionKeepsRecentData() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 500)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            for _ in 0..<20 { _ = try log.append(makeBatch(count: 2, timestamp: 1_000), nowMs: 0) }
            store.enforceRetention(nowMs: 1_000 + 604_800_000)
            #expect(log.logStartOffset == 0)
            store.enforceRetention(nowMs: 1_020 + 604_800_001)
            #expect(log.logStartOffset > 0)
        }
    }

    @Test func compactOnlyTopicsAreNotTrimmedByRetention() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 500)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["cleanup.policy": "compact", "retention.ms": "1", "retention.bytes": "1"])
            let log = try #require(store.partition("t", 0))
            for _ in 0..<20 { _ = try log.append(makeBatch(count: 2, timestamp: 1_000), nowMs: 0) }
            store.enforceRetention(nowMs: 1_000_000)
            #expect(log.logStartOffset == 0)
            try store.incrementalAlterConfigs("t", operations: [ConfigOperation(key: "cleanup.policy", .append("delete"))])
            store.enforceRetention(nowMs: 1_000_000)
            #expect(log.logStartOffset > 0)
        }
    }

    @Test func deleteRecordsMovesLogStartAndDeletesSegmentsBelowIt() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 500)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            let log = try #require(store.partition("t", 0))
            for _ in 0..<30 { _ = try log.append(makeBatch(count: 2), nowMs: 0) }
            let before = try segmentFiles(directory, "t", 0).count
            #expect(try log.deleteRecords(before: 25) == 25)
            #expect(log.logStartOffset == 25)
            #expect(try segmentFiles(directory, "t", 0).count < before)
            #expect(try readAll(log).first?.offset == 25)
            #expect(try log.deleteRecords(before: 10) == 25)
            #expect(performing: { try log.deleteRecords(before: 61) }, throws: { ($0 as? StorageError)?.code == .offsetOutOfRange })
            #expect(try log.deleteRecords(before: 60) == 60)
            #expect(try segmentFiles(directory, "t", 0).count == 1)
            #expect(try log.read(from: 60, maxBytes: 10).records.readableBytes == 0)
        }
    }
}
