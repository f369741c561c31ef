import KafkaWire
import NIOCore

extension RecordBatch {
    /// The batch's records section, decompressed with the batch's codec (as it is when the
    /// batch is not compressed).
    ///
    /// - Parameter maxBytes: the most bytes the decompressed records may take.
    /// - Throws: `WireError` for an unknown codec, a bomb, or corrupt compressed data.
    public func uncompressedRecordsSection(maxBytes: Int) throws(WireError) -> ByteBuffer {
        guard let codec = header.compression else {
            throw .malformed(field: "attributes", reason: "unknown compression codec \(header.attributes & 0x7)")
        }
        return try RecordCompression.decompress(recordsSection, with: codec, maxBytes: maxBytes)
    }

    /// The batch's records, decompressed when need be.
    ///
    /// - Throws: `WireError` when the data does not decompress within `maxDecompressedBytes` or
    ///   the records are malformed or disagree with `recordsCount`.
    public func records(maxDecompressedBytes: Int) throws(WireError) -> [Record] {
        try Self.decodeRecords(in: uncompressedRecordsSection(maxBytes: maxDecompressedBytes), declaredCount: header.recordsCount)
    }

    /// Checks the framing of the batch's records, compressed or not, as `validateRecords()`
    /// does for uncompressed ones.
    public func validateRecords(maxDecompressedBytes: Int) throws(WireError) {
        try Self.validateRecords(in: uncompressedRecordsSection(maxBytes: maxDecompressedBytes), declaredCount: header.recordsCount)
    }

    /// A v2 batch with the fields of `header` holding `records`, compressed with the codec of
    /// `header.attributes`, its `batchLength`, `recordsCount` and CRC computed afresh.
    ///
    /// Offsets, timestamps, producer fields and the other attributes are taken from `header` as
    /// they are, so a batch filtered by the log cleaner keeps them.
    /// - Throws: `CompressionFailure` for an unknown codec or when compression fails.
    public static func encode(header: RecordBatchHeader, records: [Record]) throws(CompressionFailure) -> ByteBuffer {
        guard let codec = header.compression else {
            throw CompressionFailure(codec: .none, message: "unknown compression codec \(header.attributes & 0x7) in the batch attributes")
        }
        var section = ByteBuffer()
        for record in records { record.write(to: &section) }
        var compressed = try RecordCompression.compress(section, with: codec)

        // The CRC covers everything from the attributes to the end of the batch.
        var covered = ByteBuffer()
        covered.reserveCapacity(RecordBatchHeader.size - 21 + compressed.readableBytes)
        covered.writeInteger(header.attributes)
        covered.writeInteger(header.lastOffsetDelta)
        covered.writeInteger(header.baseTimestamp)
        covered.writeInteger(header.maxTimestamp)
        covered.writeInteger(header.producerId)
        covered.writeInteger(header.producerEpoch)
        covered.writeInteger(header.baseSequence)
        covered.writeInteger(Int32(truncatingIfNeeded: records.count))
        covered.writeBuffer(&compressed)

        var batch = ByteBuffer()
        batch.reserveCapacity(RecordBatchHeader.size + compressed.readableBytes)
        batch.writeInteger(header.baseOffset)
        // batchLength counts partitionLeaderEpoch (4), magic (1) and crc (4) before the covered part.
        batch.writeInteger(Int32(truncatingIfNeeded: 9 + covered.readableBytes))
        batch.writeInteger(header.partitionLeaderEpoch)
        batch.writeInteger(header.magic)
        batch.writeInteger(CRC32C.checksum(covered))
        batch.writeImmutableBuffer(covered)
        return batch
    }
}

extension RecordBatchBuilder {
    /// The batch with its records compressed with `codec`.
    ///
    /// - Throws: `CompressionFailure` when compression fails.
    public func build(compression codec: CompressionCodec) throws(CompressionFailure) -> ByteBuffer {
        let plain = build()
        guard codec != .none else { return plain }
        guard var header = try? RecordBatchHeader(parsing: plain, at: plain.readerIndex) else {
            throw CompressionFailure(codec: codec, message: "the builder wrote a batch whose header does not parse")
        }
        header.attributes = (header.attributes & ~0x7) | codec.rawValue
        return try RecordBatch.encode(header: header, records: records)
    }
}
