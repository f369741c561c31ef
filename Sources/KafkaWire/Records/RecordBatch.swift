import NIOCore

/// One whole v2 record batch: its parsed header and its exact bytes.
public struct RecordBatch: Sendable, Equatable {
    /// The parsed header (as it was when the batch was split out).
    public let header: RecordBatchHeader
    /// The whole batch, header included, exactly as received.
    public let bytes: ByteBuffer

    /// Takes the batch that fills `bytes` exactly.
    ///
    /// - Throws: `WireError` when the header is invalid or its length disagrees with `bytes`.
    public init(bytes: ByteBuffer) throws(WireError) {
        let header = try RecordBatchHeader(parsing: bytes, at: bytes.readerIndex)
        guard header.totalSize == bytes.readableBytes else {
            throw .malformed(
                field: "batchLength",
                reason: "declares \(header.totalSize) bytes but the batch holds \(bytes.readableBytes)"
            )
        }
        self.init(header: header, bytes: bytes)
    }

    init(header: RecordBatchHeader, bytes: ByteBuffer) {
        self.header = header
        self.bytes = bytes
    }

    /// Whether the stored CRC-32C matches the batch's bytes.
    public var hasValidCRC: Bool {
        (try? RecordBatchHeader.verifyCRC(in: bytes, at: bytes.readerIndex)) ?? false
    }

    /// Checks the framing of an uncompressed batch's records without materialising them: every
    /// record parses, their number matches `recordsCount`, and offset deltas count up from 0.
    /// Compressed batches are not opened (nothing is checked beyond the header).
    ///
    /// This is the broker's per-produce validation, so it allocates nothing per record.
    /// - Throws: `WireError.malformed` naming the first offending record.
    public func validateRecords() throws(WireError) {
        guard header.compression == CompressionCodec.none else { return }
        guard var body = bytes.getSlice(at: bytes.readerIndex + RecordBatchHeader.size, length: bytes.readableBytes - RecordBatchHeader.size)
        else { throw .truncated(field: "records") }
        var count: Int32 = 0
        while body.readableBytes > 0 {
            let offsetDelta = try Record.skip(from: &body)
            guard offsetDelta == count else {
                throw .malformed(field: "offsetDelta", reason: "record \(count) has offset delta \(offsetDelta); deltas must count up from 0")
            }
            count += 1
        }
        guard count == header.recordsCount else {
            throw .malformed(
                field: "recordsCount",
                reason: "header declares \(header.recordsCount) records but the batch holds \(count)"
            )
        }
    }

    /// The records of the batch, or the codec when they are compressed (never decompressed here).
    ///
    /// - Throws: `WireError` when a record is malformed or their number disagrees with `recordsCount`.
    public func payload() throws(WireError) -> RecordBatchPayload {
        guard let codec = header.compression else {
            throw .malformed(field: "attributes", reason: "unknown compression codec \(header.attributes & 0x7)")
        }
        guard codec == .none else { return .compressed(codec) }
        var body = bytes.getSlice(at: bytes.readerIndex + RecordBatchHeader.size, length: bytes.readableBytes - RecordBatchHeader.size)
            ?? ByteBuffer()
        // A record is at least 7 bytes, so a hostile count cannot make us reserve much.
        var records: [Record] = []
        records.reserveCapacity(min(Int(header.recordsCount), body.readableBytes / 7))
        while body.readableBytes > 0 {
            records.append(try Record.read(from: &body))
        }
        guard records.count == Int(header.recordsCount) else {
            throw .malformed(
                field: "recordsCount",
                reason: "header declares \(header.recordsCount) records but the batch holds \(records.count)"
            )
        }
        return .records(records)
    }
}

/// What a batch holds: decoded records, or the codec of records left compressed.
public enum RecordBatchPayload: Sendable, Equatable {
    case records([Record])
    case compressed(CompressionCodec)
}
