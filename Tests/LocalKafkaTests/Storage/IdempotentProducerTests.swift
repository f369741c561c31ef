import Foundation
import KafkaWire
import NIOCore
import Testing
@testable import LocalKafka

@Suite struct IdempotentProducerTests {
    private func code(_ error: any Error) -> StorageError.Code? { (error as? StorageError)?.code }

    @Test func retriedBatchReturnsOriginalOffsetsWithoutWriting() throws {
        try withPartition { directory, store, log in
            _ = try log.append(makeBatch(count: 2), nowMs: 0)
            let first = makeBatch(count: 3, producerId: 7, epoch: 0, sequence: 0)
            let second = makeBatch(count: 2, producerId: 7, epoch: 0, sequence: 3)
            let original = try log.append(first, nowMs: 0)
            _ = try log.append(second, nowMs: 0)
            #expect(original.baseOffset == 2 && original.lastOffset == 4)
            let retry = try log.append(first, nowMs: 0)
            #expect(retry.wasDuplicate)
            #expect(retry.baseOffset == 2 && retry.lastOffset == 4)
            #expect(log.logEndOffset == 7)
            #expect(try readAll(log).count == 7)
        }
    }

    @Test func sequenceGapAndOldEpochAreRejected() throws {
        try withPartition { directory, store, log in
            _ = try log.append(makeBatch(count: 2, producerId: 9, epoch: 1, sequence: 0), nowMs: 0)
            #expect(performing: { try log.append(makeBatch(producerId: 9, epoch: 1, sequence: 5), nowMs: 0) }, throws: { code($0) == .outOfOrderSequence })
            #expect(performing: { try log.append(makeBatch(producerId: 9, epoch: 0, sequence: 2), nowMs: 0) }, throws: { code($0) == .invalidProducerEpoch })
            // A new epoch must start at sequence 0.
            #expect(performing: { try log.append(makeBatch(producerId: 9, epoch: 2, sequence: 2), nowMs: 0) }, throws: { code($0) == .outOfOrderSequence })
            #expect(log.logEndOffset == 2)
            #expect(try log.append(makeBatch(producerId: 9, epoch: 1, sequence: 2), nowMs: 0).baseOffset == 2)
            #expect(try log.append(makeBatch(producerId: 9, epoch: 2, sequence: 0), nowMs: 0).baseOffset == 3)
            #expect(performing: { try log.append(makeBatch(producerId: 9, epoch: 1, sequence: 3), nowMs: 0) }, throws: { code($0) == .invalidProducerEpoch })
        }
    }

    @Test(arguments: [true, false])
    func duplicatesAreDetectedAfterRestart(cleanShutdown: Bool) throws {
        try withTemporaryDirectory { directory in
            let batches = (0..<7).map { makeBatch(count: 2, prefix: "p\($0)", producerId: 3, epoch: 4, sequence: Int32($0 * 2)) }
            do {
                let store = try openStore(directory)
                _ = try store.createTopic("t", partitions: 1, configs: [:])
                for batch in batches { _ = try store.partition("t", 0)?.append(batch, nowMs: 0) }
                if cleanShutdown { store.close() }
            }
            let store = try openStore(directory)
            defer { store.close() }
            let log = try #require(store.partition("t", 0))
            // The last five batches are remembered; older retries are out of sequence.
            let retry = try log.append(batches[4], nowMs: 0)
            #expect(retry.wasDuplicate && retry.baseOffset == 8 && retry.lastOffset == 9)
            #expect(performing: { try log.append(batches[0], nowMs: 0) }, throws: { code($0) == .outOfOrderSequence })
            #expect(log.logEndOffset == 14)
            #expect(try log.append(makeBatch(producerId: 3, epoch: 4, sequence: 14), nowMs: 0).baseOffset == 14)
            #expect(performing: { try log.append(makeBatch(producerId: 3, epoch: 3, sequence: 15), nowMs: 0) }, throws: { code($0) == .invalidProducerEpoch })
        }
    }

    @Test func sequenceWrapsFromInt32MaxToZero() throws {
        var table = ProducerStateTable()
        var header = try RecordBatch(bytes: makeBatch(count: 1, producerId: 1, epoch: 0, sequence: Int32.max)).header
        #expect(try table.check(header) == .append)
        table.record(header)
        header = try RecordBatch(bytes: makeBatch(count: 2, producerId: 1, epoch: 0, sequence: 0)).header
        #expect(try table.check(header) == .append)
    }
}
