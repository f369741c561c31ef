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
        try Self.validateRecords(in: recordsSection, declaredCount: header.recordsCount)
    }

    /// The bytes after the header: the records, or their compressed form.
    public var recordsSection: ByteBuffer {
        bytes.getSlice(at: bytes.readerIndex + RecordBatchHeader.size, length: bytes.readableBytes - RecordBatchHeader.size)
            ?? ByteBuffer()
    }

    /// Checks the framing of uncompressed `records` (a batch's records section, decompressed if
    /// need be) without materialising them, as `validateRecords()` does.
    ///
    /// - Throws: `WireError.malformed` naming the first offending record.
    public static func validateRecords(in records: ByteBuffer, declaredCount: Int32) throws(WireError) {
        var body = records
        var count: Int32 = 0
        while body.readableBytes > 0 {
            let offsetDelta = try Record.skip(from: &body)
            guard offsetDelta == count else {
                throw .malformed(field: "offsetDelta", reason: "record \(count) has offset delta \(offsetDelta); deltas must count up from 0")
            }
            count &+= 1
        }
        guard count == declaredCount else {
            throw .malformed(
                field: "recordsCount",
                reason: "header declares \(declaredCount) records but the batch holds \(count)"
            )
        }
    }

    /// Decodes uncompressed `records` (a batch's records section, decompressed if need be).
    ///
    /// - Throws: `WireError` when a record is malformed or their number is not `declaredCount`.
    public static func decodeRecords(in records: ByteBuffer, declaredCount: Int32) throws(WireError) -> [Record] {
        var body = records
        // A record is at least 7 bytes, so a hostile count cannot make us reserve much.
        var decoded: [Record] = []
        decoded.reserveCapacity(min(Int(max(declaredCount, 0)), body.readableBytes / 7))
        while body.readableBytes > 0 {
            decoded.append(try Record.read(from: &body))
        }
        guard decoded.count == Int(declaredCount) else {
            throw .malformed(
                field: "recordsCount",
                reason: "header declares \(declaredCount) records but the batch holds \(decoded.count)"
            )
        }
        return decoded
    }

    /// The records of the batch, or the codec when they are compressed (never decompressed here).
    ///
    /// - Throws: `WireError` when a record is malformed or their number disagrees with `recordsCount`.
    public func payload() throws(WireError) -> RecordBatchPayload {
        guard let codec = header.compression else {
            throw .malformed(field: "attributes", reason: "unknown compression codec \(header.attributes & 0x7)")
        }
        guard codec == .none else { return .compressed(codec) }
        let records = try Self.decodeRecords(in: recordsSection, declaredCount: header.recordsCount)
        return .records(records)
    }
}

/// What a batch holds: decoded records, or the codec of records left compressed.
public enum RecordBatchPayload: Sendable, Equatable {
    case records([Record])
    case compressed(CompressionCodec)
}
