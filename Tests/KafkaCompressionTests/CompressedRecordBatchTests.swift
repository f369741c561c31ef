import KafkaWire
import NIOCore
import Testing
import KafkaCompression

/// Whole v2 batches whose records are compressed: written and read back with every codec.
@Suite struct CompressedRecordBatchTests {
    static let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

    private func builder(records: Int) -> RecordBatchBuilder {
        var builder = RecordBatchBuilder(baseTimestamp: 1_700_000_000_000)
        builder.baseOffset = 500
        builder.producerId = 9
        builder.producerEpoch = 3
        builder.baseSequence = 40
        for index in 0..<records {
            builder.append(
                key: index == 2 ? nil : ByteBuffer(string: "key-\(index % 4)"),
                value: index == 1 ? nil : ByteBuffer(string: String(repeating: "value\(index) ", count: 20)),
                headers: [RecordHeader(key: "h", value: ByteBuffer(string: "\(index)"))],
                timestamp: 1_700_000_000_000 + Int64(index) * 3
            )
        }
        return builder
    }

    @Test(arguments: codecs)
    func writesAndReadsACompressedBatch(codec: CompressionCodec) throws {
        let builder = builder(records: 50)
        let plain = try RecordBatch(bytes: builder.build())
        let batch = try RecordBatch(bytes: try builder.build(compression: codec))
        #expect(batch.hasValidCRC)
        #expect(batch.header.compression == codec)
        #expect(batch.bytes.readableBytes < plain.bytes.readableBytes)
        var expected = plain.header
        expected.attributes |= codec.rawValue
        expected.batchLength = batch.header.batchLength
        expected.crc = batch.header.crc
        #expect(batch.header == expected)
        #expect(try batch.payload() == .compressed(codec))
        #expect(try batch.records(maxDecompressedBytes: 1 << 20) == builder.records)
        try batch.validateRecords(maxDecompressedBytes: 1 << 20)
        // The bound applies to the decompressed records section.
        #expect(throws: WireError.self) { try batch.records(maxDecompressedBytes: 100) }
    }

    @Test(arguments: codecs)
    func encodeKeepsHeaderFieldsAndGapsOfAFilteredBatch(codec: CompressionCodec) throws {
        let original = try RecordBatch(bytes: try builder(records: 8).build(compression: codec))
        let kept = try original.records(maxDecompressedBytes: 1 << 20).filter { $0.offsetDelta % 3 == 0 }
        let filtered = try RecordBatch(bytes: try RecordBatch.encode(header: original.header, records: kept))
        #expect(filtered.hasValidCRC)
        #expect(filtered.header.recordsCount == 3)
        #expect(filtered.header.lastOffsetDelta == original.header.lastOffsetDelta)
        #expect(filtered.header.baseOffset == 500 && filtered.header.producerId == 9 && filtered.header.baseSequence == 40)
        #expect(filtered.header.maxTimestamp == original.header.maxTimestamp)
        #expect(filtered.header.compression == codec)
        #expect(try filtered.records(maxDecompressedBytes: 1 << 20) == kept)
        // Gaps between offset deltas are a filtered batch's normal state, not a framing error
        // for decoding; produce validation (deltas counting from 0) is for fresh batches only.
        #expect(throws: WireError.self) { try filtered.validateRecords(maxDecompressedBytes: 1 << 20) }
    }

    @Test(arguments: codecs)
    func aCountThatDisagreesWithTheRecordsIsRefused(codec: CompressionCodec) throws {
        let builder = builder(records: 4)
        var header = try RecordBatch(bytes: try builder.build(compression: codec)).header
        header.recordsCount = 5
        // encode writes the real count; rebuild with the wrong count in the covered bytes.
        var bytes = try RecordBatch.encode(header: header, records: builder.records)
        bytes.setInteger(Int32(5), at: 57)
        let covered = bytes.getSlice(at: 21, length: bytes.readableBytes - 21) ?? ByteBuffer()
        bytes.setInteger(CRC32C.checksum(covered), at: 17)
        let batch = try RecordBatch(bytes: bytes)
        #expect(batch.hasValidCRC)
        #expect(throws: WireError.self) { try batch.records(maxDecompressedBytes: 1 << 20) }
        #expect(throws: WireError.self) { try batch.validateRecords(maxDecompressedBytes: 1 << 20) }
    }

    @Test func anUnknownCodecIsRefused() throws {
        var bytes = builder(records: 2).build()
        bytes.setInteger(Int16(6), at: 21)
        let batch = try RecordBatch(bytes: bytes)
        #expect(throws: WireError.self) { try batch.records(maxDecompressedBytes: 1 << 20) }
    }
}
