import NIOCore

/// Concatenated record batches (a Produce request's `records`, a segment file, a Fetch response)
/// split into whole batches.
///
/// Every length is checked against the bytes actually present; nothing here traps on hostile input.
public struct RecordBatchSequence: Sendable {
    /// The whole batches, in order.
    public let batches: [RecordBatch]
    /// Bytes after the last whole batch: a partial batch, allowed only when asked for.
    public let partialTrailingBytes: Int

    /// Splits the readable bytes of `buffer` into batches.
    ///
    /// - Parameter allowPartialTrailingBatch: accept a cut-off batch at the end (Fetch responses
    ///   may end inside a batch); a Produce request must hold only whole batches.
    /// - Throws: `WireError.malformed` for a `batchLength` under 49 or a magic other than 2,
    ///   `WireError.truncated` for a batch extending past the buffer when partial batches are not allowed.
    public init(splitting buffer: ByteBuffer, allowPartialTrailingBatch: Bool = false) throws(WireError) {
        var batches: [RecordBatch] = []
        var index = buffer.readerIndex
        let end = buffer.writerIndex
        var partial = 0
        while index < end {
            let remaining = end - index
            if remaining < RecordBatchHeader.size {
                // Check what is present of a cut-off header before excusing it as partial.
                if remaining >= RecordBatchHeader.lengthPrefixSize, let length: Int32 = buffer.getInteger(at: index + 8) {
                    try RecordBatchHeader.checkLength(length)
                }
                if remaining > RecordBatchHeader.magicOffset, let magic: Int8 = buffer.getInteger(at: index + RecordBatchHeader.magicOffset) {
                    try RecordBatchHeader.checkMagic(magic)
                }
                guard allowPartialTrailingBatch else { throw .truncated(field: "record batch header") }
                partial = remaining
                break
            }
            let header = try RecordBatchHeader(parsing: buffer, at: index)
            guard header.totalSize <= remaining else {
                guard allowPartialTrailingBatch else { throw .truncated(field: "record batch") }
                partial = remaining
                break
            }
            guard let bytes = buffer.getSlice(at: index, length: header.totalSize) else {
                throw .truncated(field: "record batch")
            }
            batches.append(RecordBatch(header: header, bytes: bytes))
            index += header.totalSize
        }
        self.batches = batches
        self.partialTrailingBytes = partial
    }
}
