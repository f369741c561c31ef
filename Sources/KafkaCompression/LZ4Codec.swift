import CLZ4
import KafkaWire
import NIOCore

/// Kafka's lz4 codec: the LZ4 frame format (Kafka 0.10+ for batch format v2), through liblz4.
enum LZ4Codec {
    static func compress(_ records: ByteBuffer) throws(CompressionFailure) -> ByteBuffer {
        let input = NativeBytes(copying: records)
        // Independent 64 KiB blocks, as librdkafka and the Java client write: every Kafka
        // consumer reads them (the Java client does not accept linked blocks).
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        let output = NativeBytes(count: LZ4F_compressFrameBound(input.count, &preferences))
        let written = LZ4F_compressFrame(output.pointer, output.count, input.pointer, input.count, &preferences)
        guard LZ4F_isError(written) == 0 else {
            throw CompressionFailure(codec: .lz4, message: String(cString: LZ4F_getErrorName(written)))
        }
        return output.buffer(length: written)
    }

    static func decompress(_ data: ByteBuffer, maxBytes: Int) throws(WireError) -> ByteBuffer {
        let input = NativeBytes(copying: data)
        let chunk = NativeBytes(count: RecordCompression.chunkSize)
        var context: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&context, switchback_lz4f_version())) == 0, let context else {
            throw .malformed(field: "lz4 records", reason: "liblz4 could not create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var output = ByteBuffer()
        var consumed = 0
        var frameComplete = false
        while true {
            var produced = chunk.count
            var taken = input.count - consumed
            let hint = LZ4F_decompress(context, chunk.pointer, &produced, input.pointer + consumed, &taken, nil)
            guard LZ4F_isError(hint) == 0 else {
                throw .malformed(field: "lz4 records", reason: String(cString: LZ4F_getErrorName(hint)))
            }
            consumed += taken
            try output.appendDecompressed(chunk.pointer, count: produced, maxBytes: maxBytes, codec: .lz4)
            // A hint of 0 ends a frame; another may follow.
            frameComplete = hint == 0
            if consumed == input.count {
                if frameComplete { return output }
                // More output may be pending only while the last call filled the whole chunk.
                if produced < chunk.count { throw .truncated(field: "lz4 records") }
            }
        }
    }
}
