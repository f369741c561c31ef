import Foundation
import KafkaCompression
import KafkaWire
import NIOCore
import Testing
import TestSupport
@testable import LocalKafka

/// The log cleaner and produce validation on compressed batches, on real segment files.
@Suite struct CompressedCompactionTests {
    static let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
    static let compacted = ["cleanup.policy": "compact"]

    /// A batch of keyed records (nil value: a tombstone) compressed with `codec`.
    static func compressedBatch(
        _ records: [(key: String?, value: String?)], codec: CompressionCodec, timestamp: Int64 = 1_000,
        producerId: Int64 = -1, epoch: Int16 = -1, sequence: Int32 = -1
    ) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(baseTimestamp: timestamp)
        builder.producerId = producerId
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        for (index, record) in records.enumerated() {
            builder.append(
                key: record.key.map { ByteBuffer(string: $0) }, value: record.value.map { ByteBuffer(string: $0) },
                timestamp: timestamp + Int64(index)
            )
        }
        return try builder.build(compression: codec)
    }

    /// Every stored batch of the partition, whole.
    static func stored(_ directory: URL, _ topic: String) throws -> [RecordBatch] {
        var batches: [RecordBatch] = []
        for file in try segmentFiles(directory, topic, 0) {
            batches += try RecordBatchSequence(splitting: ByteBuffer(bytes: try Data(contentsOf: file))).batches
        }
        return batches
    }

    /// Every record of the partition with its offset, decompressing as a consumer does.
    static func readAll(_ batches: [RecordBatch]) throws -> [KeyedRecord] {
        var records: [KeyedRecord] = []
        for batch in batches {
            for record in try batch.records(maxDecompressedBytes: 1 << 24) {
                records.append(
                    KeyedRecord(
                        offset: batch.header.baseOffset + Int64(record.offsetDelta),
                        key: record.key.map { String(buffer: $0) }, value: record.value.map { String(buffer: $0) },
                        timestamp: batch.header.baseTimestamp + record.timestampDelta
                    )
                )
            }
        }
        return records
    }

    @Test(arguments: codecs)
    func compactsInsideCompressedBatchesAndCompressesTheRestAgain(codec: CompressionCodec) throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 400)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: Self.compacted)
            let log = try #require(store.partition("t", 0))
            var written: [KeyedRecord] = []
            for round in 0..<12 {
                let records: [(key: String?, value: String?)] = (0..<4).map { index in
                    ("k\((round + index) % 6)", round == 11 && index == 0 ? nil : "r\(round)-\(index)")
                }
                let batch = try Self.compressedBatch(
                    records, codec: codec, timestamp: 1_000 + Int64(round) * 10,
                    producerId: 5, epoch: 1, sequence: Int32(round * 4)
                )
                let result = try log.append(batch, nowMs: 0)
                for (index, record) in records.enumerated() {
                    written.append(
                        KeyedRecord(offset: result.baseOffset + Int64(index), key: record.key, value: record.value,
                                    timestamp: 1_000 + Int64(round) * 10 + Int64(index))
                    )
                }
            }
            #expect(log.segments.count > 2)
            let activeBase = log.activeSegment.baseOffset
            let before = try Self.stored(directory, "t")

            let report = try store.compact(topic: "t", nowMs: 0)

            let expected = expectedAfterCompaction(written, activeBase: activeBase)
            let after = try Self.stored(directory, "t")
            #expect(try Self.readAll(after) == expected)
            #expect(report.recordsRemoved == written.count - expected.count)
            #expect(report.recordsRemoved > 0)
            for batch in after {
                #expect(batch.hasValidCRC)
                let original = try #require(before.first { $0.header.baseOffset == batch.header.baseOffset })
                // Offsets, timestamps and producer fields survive; the codec too, unless the
                // batch was emptied (kept for its producer's state, uncompressed as in Kafka).
                #expect(batch.header.lastOffsetDelta == original.header.lastOffsetDelta)
                #expect(batch.header.baseTimestamp == original.header.baseTimestamp)
                #expect(batch.header.maxTimestamp == original.header.maxTimestamp)
                #expect(batch.header.producerId == 5 && batch.header.producerEpoch == 1)
                #expect(batch.header.baseSequence == original.header.baseSequence)
                #expect(batch.header.compression == (batch.header.recordsCount == 0 ? CompressionCodec.none : codec))
            }
            // The log goes on after the cleaning.
            #expect(try log.append(try Self.compressedBatch([("k0", "next")], codec: codec), nowMs: 0).baseOffset == 48)
        }
    }

    @Test(arguments: codecs)
    func aKeylessRecordInACompressedBatchIsRefusedOnACompactedTopic(codec: CompressionCodec) throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic("compacted", partitions: 1, configs: Self.compacted)
            _ = try store.createTopic("plain", partitions: 1, configs: [:])
            let batch = try Self.compressedBatch([("a", "1"), (nil, "no key"), ("b", "2")], codec: codec)
            #expect {
                _ = try #require(store.partition("compacted", 0)).append(batch, nowMs: 0)
            } throws: { error in
                (error as? StorageError)?.code == .invalidRecord
            }
            #expect(try #require(store.partition("compacted", 0)).logEndOffset == 0)
            // A topic that only deletes takes it.
            #expect(try #require(store.partition("plain", 0)).append(batch, nowMs: 0).lastOffset == 2)
        }
    }

    @Test(arguments: codecs)
    func compressedRecordsThatDoNotDecompressAreRefused(codec: CompressionCodec) throws {
        try withPartition { directory, store, log in
            var batch = try Self.compressedBatch([("a", String(repeating: "x", count: 300))], codec: codec)
            // Cut the compressed records short, then fix batchLength and the CRC: only the
            // codec can tell.
            batch = batch.getSlice(at: 0, length: batch.readableBytes - 6) ?? ByteBuffer()
            batch.setInteger(Int32(batch.readableBytes - 12), at: 8)
            let covered = batch.getSlice(at: 21, length: batch.readableBytes - 21) ?? ByteBuffer()
            batch.setInteger(CRC32C.checksum(covered), at: 17)
            #expect {
                _ = try log.append(batch, nowMs: 0)
            } throws: { error in
                (error as? StorageError)?.code == .corruptRecord
            }
            #expect(log.logEndOffset == 0)
        }
    }

    @Test func aCompressionBombIsRefusedAtProduce() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["max.message.bytes": "100000"])
            let log = try #require(store.partition("t", 0))
            // 65 MiB of zeros: a few KiB compressed, past the 64 MiB a batch may expand to.
            var builder = RecordBatchBuilder(baseTimestamp: 1_000)
            builder.append(key: ByteBuffer(string: "k"), value: ByteBuffer(repeating: 0, count: 65 << 20))
            let bomb = try builder.build(compression: .zstd)
            #expect(bomb.readableBytes < 100_000)
            #expect {
                _ = try log.append(bomb, nowMs: 0)
            } throws: { error in
                (error as? StorageError)?.code == .messageTooLarge
            }
            #expect(log.logEndOffset == 0)
        }
    }

    @Test(arguments: codecs)
    func offsetLookupsByTimestampLookInsideCompressedBatches(codec: CompressionCodec) throws {
        try withPartition { directory, store, log in
            // Timestamps 1000, 1001, 1002 at offsets 0, 1, 2; then 5000.. at 3.
            _ = try log.append(try Self.compressedBatch([("a", "1"), ("b", "2"), ("c", "3")], codec: codec, timestamp: 1_000), nowMs: 0)
            var later = RecordBatchBuilder(baseTimestamp: 5_000)
            later.append(key: ByteBuffer(string: "d"), value: ByteBuffer(string: "4"), timestamp: 5_000)
            later.append(key: ByteBuffer(string: "e"), value: ByteBuffer(string: "5"), timestamp: 4_000)
            _ = try log.append(try later.build(compression: codec), nowMs: 0)

            #expect(log.offset(forTimestamp: 1_001).map { [$0.offset, $0.timestamp] } == [1, 1_001])
            #expect(log.offset(forTimestamp: 1_003).map { [$0.offset, $0.timestamp] } == [3, 5_000])
            #expect(log.offset(forTimestamp: 4_500).map { [$0.offset, $0.timestamp] } == [3, 5_000])
            #expect(log.offsetOfMaxTimestamp().map { [$0.offset, $0.timestamp] } == [3, 5_000])
        }
    }
}
