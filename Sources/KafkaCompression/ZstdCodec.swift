import CZstd
import KafkaWire
import NIOCore

/// Kafka's zstd codec (Kafka 2.1+): Zstandard frames, through libzstd.
enum ZstdCodec {
    /// Kafka's (and librdkafka's) default level.
    static let level: Int32 = 3

    static func compress(_ records: ByteBuffer) throws(CompressionFailure) -> ByteBuffer {
        let input = NativeBytes(copying: records)
        let output = NativeBytes(count: ZSTD_compressBound(input.count))
        let written = ZSTD_compress(output.pointer, output.count, input.pointer, input.count, level)
        guard ZSTD_isError(written) == 0 else {
            throw CompressionFailure(codec: .zstd, message: String(cString: ZSTD_getErrorName(written)))
        }
        return output.buffer(length: written)
    }

    static func decompress(_ data: ByteBuffer, maxBytes: Int) throws(WireError) -> ByteBuffer {
        let input = NativeBytes(copying: data)
        let chunk = NativeBytes(count: RecordCompression.chunkSize)
        guard let context = ZSTD_createDCtx() else {
            throw .malformed(field: "zstd records", reason: "libzstd could not create a decompression context")
        }
        defer { ZSTD_freeDCtx(context) }
        // The frame header chooses the window libzstd allocates: never more than the output may
        // hold (a window beyond the content is useless), so a header cannot ask for 2 GiB.
        let windowLog = min(27, max(10, Int32(Int.bitWidth - max(maxBytes - 1, 1).leadingZeroBitCount)))
        _ = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, windowLog)
        // A frame that states its size is refused before anything is allocated for it.
        let declared = ZSTD_getFrameContentSize(input.pointer, input.count)
        // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest values.
        if declared < UInt64.max - 1, declared > UInt64(max(maxBytes, 0)) {
            throw .tooLarge(field: "zstd-decompressed records", size: Int(clamping: declared), limit: maxBytes)
        }
        var source = ZSTD_inBuffer(src: input.pointer, size: input.count, pos: 0)
        var output = ByteBuffer()
        while true {
            var target = ZSTD_outBuffer(dst: chunk.pointer, size: chunk.count, pos: 0)
            let hint = ZSTD_decompressStream(context, &target, &source)
            guard ZSTD_isError(hint) == 0 else {
                if ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge {
                    throw .tooLarge(field: "zstd window", size: Int(clamping: UInt64(1) << UInt64(windowLog + 1)), limit: maxBytes)
                }
                throw .malformed(field: "zstd records", reason: String(cString: ZSTD_getErrorName(hint)))
            }
            try output.appendDecompressed(chunk.pointer, count: target.pos, maxBytes: maxBytes, codec: .zstd)
            if source.pos == source.size {
                // A hint of 0: the frame is complete and flushed.
                if hint == 0 { return output }
                if target.pos < target.size { throw .truncated(field: "zstd records") }
            }
        }
    }
}
