import KafkaWire
import NIOCore

/// Stamps produced batches for topics with `message.timestamp.type=LogAppendTime`, as Kafka
/// does: the batch's timestamp type becomes LogAppendTime and its max timestamp the broker's
/// append time, which consumers then report for every record of the batch.
///
/// Kafka changes only those two header fields and recomputes the CRC; the records (compressed
/// or not) stay as produced.
enum LogAppendTimeStamp {
    /// Byte offsets inside a v2 batch (see `RecordBatchHeader`).
    private static let crcOffset = 17
    private static let attributesOffset = 21
    private static let maxTimestampOffset = 35
    private static let logAppendTimeFlag: Int16 = 0x8

    /// `batches` with every well-formed batch stamped with `nowMs`.
    ///
    /// A batch that does not parse or whose CRC is already wrong is left as it is, and so is
    /// everything after it, so that storage validation still refuses the request: a damaged
    /// batch must never be given a fresh, valid CRC.
    static func stamp(_ batches: ByteBuffer, nowMs: Int64) -> ByteBuffer {
        var stamped = batches
        var index = stamped.readerIndex
        while index < stamped.writerIndex {
            guard let header = try? RecordBatchHeader(parsing: stamped, at: index),
                  header.totalSize <= stamped.writerIndex - index,
                  (try? RecordBatchHeader.verifyCRC(in: stamped, at: index)) == true
            else { return stamped }
            stamped.setInteger(header.attributes | logAppendTimeFlag, at: index + attributesOffset)
            stamped.setInteger(nowMs, at: index + maxTimestampOffset)
            guard let covered = stamped.getSlice(at: index + attributesOffset, length: header.totalSize - attributesOffset) else {
                return batches
            }
            stamped.setInteger(CRC32C.checksum(covered), at: index + crcOffset)
            index += header.totalSize
        }
        return stamped
    }
}
