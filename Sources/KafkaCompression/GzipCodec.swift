import CZlib
import KafkaWire
import NIOCore

/// Kafka's gzip codec: a gzip member (RFC 1952) around deflate, through zlib.
enum GzipCodec {
    static func compress(_ records: ByteBuffer) throws(CompressionFailure) -> ByteBuffer {
        // zlib counts input in 32 bits; a record batch (an int32 length) never comes close.
        guard records.readableBytes <= Int(Int32.max) else {
            throw CompressionFailure(codec: .gzip, message: "\(records.readableBytes) bytes are more than one zlib call takes")
        }
        let input = NativeBytes(copying: records)
        var stream = z_stream()
        guard switchback_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else {
            throw CompressionFailure(codec: .gzip, message: "zlib could not start a deflate stream")
        }
        defer { deflateEnd(&stream) }
        // deflateBound counts the gzip wrapper of the initialised stream: one call finishes.
        let output = NativeBytes(count: Int(deflateBound(&stream, uLong(input.count))))
        stream.next_in = input.bytes
        stream.avail_in = uInt(input.count)
        stream.next_out = output.bytes
        stream.avail_out = uInt(output.count)
        let status = deflate(&stream, Z_FINISH)
        guard status == Z_STREAM_END else {
            throw CompressionFailure(codec: .gzip, message: "deflate ended with status \(status)")
        }
        return output.buffer(length: output.count - Int(stream.avail_out))
    }

    static func decompress(_ data: ByteBuffer, maxBytes: Int) throws(WireError) -> ByteBuffer {
        guard data.readableBytes <= Int(UInt32.max) else {
            throw .tooLarge(field: "gzip records", size: data.readableBytes, limit: Int(UInt32.max))
        }
        let input = NativeBytes(copying: data)
        let chunk = NativeBytes(count: RecordCompression.chunkSize)
        var stream = z_stream()
        guard switchback_inflate_init_auto(&stream) == Z_OK else {
            throw .malformed(field: "gzip records", reason: "zlib could not start an inflate stream")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = input.bytes
        stream.avail_in = uInt(input.count)
        var output = ByteBuffer()
        while true {
            stream.next_out = chunk.bytes
            stream.avail_out = uInt(chunk.count)
            let status = inflate(&stream, Z_NO_FLUSH)
            try output.appendDecompressed(chunk.pointer, count: chunk.count - Int(stream.avail_out), maxBytes: maxBytes, codec: .gzip)
            switch status {
            case Z_STREAM_END:
                if stream.avail_in == 0 { return output }
                // Another gzip member follows (concatenated members are one valid gzip file).
                guard inflateReset(&stream) == Z_OK else {
                    throw .malformed(field: "gzip records", reason: "zlib could not start the next gzip member")
                }
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress was possible: the input ended before the stream did.
                throw .truncated(field: "gzip records")
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw .malformed(field: "gzip records", reason: reason)
            }
        }
    }
}
