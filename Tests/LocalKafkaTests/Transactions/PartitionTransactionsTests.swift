import Foundation
import KafkaWire
import NIOCore
import Testing

@testable import LocalKafka

/// The last stable offset and the aborted transaction index of a partition, on real files,
/// including their recovery when the log is opened again.
@Suite struct PartitionTransactionsTests {
    /// A transactional batch of `count` records from producer `producerId`.
    func transactional(_ count: Int, producerId: Int64, epoch: Int16 = 0, sequence: Int32, prefix: String) -> ByteBuffer {
        var builder = RecordBatchBuilder(baseTimestamp: 1_000)
        builder.producerId = producerId
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        builder.isTransactional = true
        for index in 0..<count {
            builder.append(value: ByteBuffer(string: "\(prefix)-\(index)"))
        }
        return builder.build()
    }

    /// Writes: 0-1 plain, 2-3 producer 7 (aborted at 6), 4 plain, 5 producer 8 (committed at 7),
    /// 8-9 producer 7 again (left open).
    func writeInterleaved(_ log: PartitionLog) throws {
        _ = try log.append(makeBatch(count: 2, prefix: "plain"), nowMs: 0)
        _ = try log.append(transactional(2, producerId: 7, sequence: 0, prefix: "seven"), nowMs: 0)
        _ = try log.append(makeBatch(count: 1, prefix: "plain-b"), nowMs: 0)
        _ = try log.append(transactional(1, producerId: 8, sequence: 0, prefix: "eight"), nowMs: 0)
        #expect(try log.appendMarker(producerId: 7, producerEpoch: 0, commit: false, nowMs: 0) == 6)
        #expect(try log.appendMarker(producerId: 8, producerEpoch: 0, commit: true, nowMs: 0) == 7)
        _ = try log.append(transactional(2, producerId: 7, sequence: 2, prefix: "seven-b"), nowMs: 0)
    }

    @Test func lastStableOffsetStopsAtTheOldestOpenTransaction() throws {
        try withPartition { directory, store, log in
            _ = try log.append(makeBatch(count: 2), nowMs: 0)
            #expect(log.lastStableOffset == 2)
            _ = try log.append(transactional(2, producerId: 5, sequence: 0, prefix: "a"), nowMs: 0)
            _ = try log.append(transactional(1, producerId: 6, sequence: 0, prefix: "b"), nowMs: 0)
            _ = try log.append(makeBatch(count: 1), nowMs: 0)
            #expect(log.logEndOffset == 6)
            #expect(log.lastStableOffset == 2)
            // Deciding the younger transaction first does not move it: the older one still bounds it.
            try log.appendMarker(producerId: 6, producerEpoch: 0, commit: true, nowMs: 0)
            #expect(log.lastStableOffset == 2)
            try log.appendMarker(producerId: 5, producerEpoch: 0, commit: false, nowMs: 0)
            #expect(log.lastStableOffset == log.logEndOffset)
            #expect(log.abortedTransactions(from: 0, upTo: 100) == [AbortedTransaction(producerId: 5, firstOffset: 2, lastOffset: 7)])
            // A marker for a producer with nothing open here changes nothing.
            try log.appendMarker(producerId: 99, producerEpoch: 0, commit: false, nowMs: 0)
            #expect(log.abortedTransactions(from: 0, upTo: 100).count == 1)

            // What read_committed sees of a read from 0: the batches below the last stable offset.
            let read = try log.read(from: 0, maxBytes: 1 << 20)
            let below = PartitionLog.batches(read.records, below: 3)
            // The cut is at batch starts (a last stable offset always is one): batch 2-3 starts below 3.
            #expect(PartitionLog.nextOffset(after: below) == 4)
            #expect(PartitionLog.nextOffset(after: PartitionLog.batches(read.records, below: 2)) == 2)
            #expect(PartitionLog.batches(read.records, below: 0).readableBytes == 0)
        }
    }

    @Test func abortedTransactionsAreThoseOverlappingTheFetchedRange() throws {
        try withPartition { directory, store, log in
            try writeInterleaved(log)
            let aborted = AbortedTransaction(producerId: 7, firstOffset: 2, lastOffset: 6)
            #expect(log.abortedTransactions(from: 0, upTo: 2) == [])
            #expect(log.abortedTransactions(from: 0, upTo: 3) == [aborted])
            #expect(log.abortedTransactions(from: 6, upTo: 10) == [aborted])
            #expect(log.abortedTransactions(from: 7, upTo: 10) == [])
            #expect(log.lastStableOffset == 8)
        }
    }

    @Test(arguments: [true, false])
    func theIndexAndOpenTransactionsSurviveARestart(cleanShutdown: Bool) throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory)
                _ = try store.createTopic("t", partitions: 1, configs: [:])
                try writeInterleaved(try #require(store.partition("t", 0)))
                // Without close() the next open finds no clean-shutdown marker and scans the log.
                if cleanShutdown { store.close() }
            }
            let store = try openStore(directory)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(log.abortedTransactions(from: 0, upTo: 100) == [AbortedTransaction(producerId: 7, firstOffset: 2, lastOffset: 6)])
            #expect(log.lastStableOffset == 8)
            #expect(log.openTransactionProducers.map(\.producerId) == [7])
            // Closing the open transaction after the restart indexes it from its first offset.
            try log.appendMarker(producerId: 7, producerEpoch: 0, commit: false, nowMs: 0)
            #expect(log.lastStableOffset == log.logEndOffset)
            #expect(log.abortedTransactions(from: 8, upTo: 100) == [AbortedTransaction(producerId: 7, firstOffset: 8, lastOffset: 10)])
        }
    }

    @Test func onlyPartitionsWithTransactionsKeepASnapshot() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory)
                _ = try store.createTopic("t", partitions: 2, configs: [:])
                try writeInterleaved(try #require(store.partition("t", 0)))
                _ = try store.partition("t", 1)?.append(makeBatch(count: 3), nowMs: 0)
                store.close()
            }
            func snapshotExists(_ partition: Int) -> Bool {
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("topics/t-\(partition)/\(PartitionLog.transactionSnapshotFile)").path)
            }
            #expect(snapshotExists(0))
            #expect(!snapshotExists(1))
            let store = try openStore(directory)
            defer { store.close() }
            #expect(store.partition("t", 0)?.lastStableOffset == 8)
            #expect(store.partition("t", 1)?.lastStableOffset == 3)
        }
    }

    @Test func theScanReadsMarkersAcrossSegments() throws {
        try withTemporaryDirectory { directory in
            do {
                // Tiny segments: every batch rolls a new one.
                let store = try openStore(directory, segmentBytes: 100)
                _ = try store.createTopic("t", partitions: 1, configs: [:])
                try writeInterleaved(try #require(store.partition("t", 0)))
            }
            let store = try openStore(directory, segmentBytes: 100)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            #expect(log.segments.count > 3)
            #expect(log.abortedTransactions(from: 0, upTo: 100) == [AbortedTransaction(producerId: 7, firstOffset: 2, lastOffset: 6)])
            #expect(log.lastStableOffset == 8)
        }
    }

    @Test func clientsCannotWriteControlBatches() throws {
        try withPartition { directory, store, log in
            let marker = RecordBatchBuilder.transactionMarker(producerId: 1, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: 0).build()
            #expect(throws: StorageError.self) { try log.append(marker, nowMs: 0) }
            #expect(log.logEndOffset == 0)
        }
    }

    @Test func aMalformedControlRecordIsAWireErrorNotACrash() throws {
        var builder = RecordBatchBuilder(baseTimestamp: 0)
        builder.isControl = true
        builder.isTransactional = true
        builder.producerId = 1
        builder.append(key: ByteBuffer(bytes: [0, 0, 0, 9]), value: nil)
        #expect(throws: WireError.self) { try RecordBatch(bytes: builder.build()).controlRecordType() }
        var short = RecordBatchBuilder(baseTimestamp: 0)
        short.isControl = true
        short.append(key: ByteBuffer(bytes: [0]), value: nil)
        #expect(throws: WireError.self) { try RecordBatch(bytes: short.build()).controlRecordType() }
        let commit = RecordBatchBuilder.transactionMarker(producerId: 1, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: 0)
        #expect(try RecordBatch(bytes: commit.build()).controlRecordType() == .commit)
    }
}
