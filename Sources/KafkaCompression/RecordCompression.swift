import KafkaWire
import NIOCore

/// The codecs of Kafka record batches (attributes bits 0–2): compresses and decompresses a
/// batch's records section as Kafka clients and brokers do.
///
/// Decompression is bounded: input claiming to expand beyond `maxBytes` is refused as soon as
/// that is known, before the memory is taken, so a small hostile batch cannot exhaust the
/// process. Corrupt or truncated input throws `WireError`; it never traps.
public enum RecordCompression {
    /// `records` compressed with `codec`, in the framing Kafka clients write (librdkafka's):
    /// gzip with a gzip wrapper, raw snappy, an LZ4 frame of independent 64 KiB blocks, a zstd
    /// frame. `.none` returns `records` as they are.
    ///
    /// - Throws: `CompressionFailure` when the library cannot compress (out of memory).
    public static func compress(_ records: ByteBuffer, with codec: CompressionCodec) throws(CompressionFailure) -> ByteBuffer {
        switch codec {
        case .none: records
        case .gzip: try GzipCodec.compress(records)
        case .snappy: try SnappyCodec.compress(records)
        case .lz4: try LZ4Codec.compress(records)
        case .zstd: try ZstdCodec.compress(records)
        }
    }

    /// `data` decompressed with `codec`; `.none` returns `data` as it is.
    ///
    /// Snappy accepts both raw blocks (librdkafka, kafka-python) and xerial-framed streams (the
    /// Java client); gzip accepts several concatenated members; zstd and lz4 several frames.
    /// - Parameter maxBytes: the most bytes the output may hold.
    /// - Throws: `WireError.tooLarge` when the output would exceed `maxBytes`, `.truncated` when
    ///   the input ends inside the compressed stream, `.malformed` when it is corrupt.
    public static func decompress(_ data: ByteBuffer, with codec: CompressionCodec, maxBytes: Int) throws(WireError) -> ByteBuffer {
        switch codec {
        case .none: data
        case .gzip: try GzipCodec.decompress(data, maxBytes: maxBytes)
        case .snappy: try SnappyCodec.decompress(data, maxBytes: maxBytes)
        case .lz4: try LZ4Codec.decompress(data, maxBytes: maxBytes)
        case .zstd: try ZstdCodec.decompress(data, maxBytes: maxBytes)
        }
    }

    /// Output is produced in pieces of this size, so a bomb is stopped at most one piece past
    /// the limit.
    static let chunkSize = 64 * 1024
}

extension ByteBuffer {
    /// Appends `count` bytes at `pointer`, refusing to grow past `maxBytes`.
    mutating func appendDecompressed(
        _ pointer: UnsafeRawPointer, count: Int, maxBytes: Int, codec: CompressionCodec
    ) throws(WireError) {
        guard count > 0 else { return }
        let total = readableBytes + count
        guard total <= maxBytes else {
            throw .tooLarge(field: "\(codec)-decompressed records", size: total, limit: maxBytes)
        }
        writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
