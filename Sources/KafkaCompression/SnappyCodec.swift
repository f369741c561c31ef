import CSnappy
import KafkaWire
import NIOCore

/// Kafka's snappy codec, through libsnappy.
///
/// Two framings are in use: librdkafka and kafka-python write one raw snappy block; the Java
/// client writes snappy-java's ("xerial") stream: a 16-byte header (`\x82SNAPPY\0`, version,
/// compatible version) then blocks, each a big-endian int32 length and a raw snappy block.
/// Both are read; raw is written, as librdkafka does, and every Kafka client reads it.
enum SnappyCodec {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderSize = 16

    static func compress(_ records: ByteBuffer) throws(CompressionFailure) -> ByteBuffer {
        let input = NativeBytes(copying: records)
        let output = NativeBytes(count: snappy_max_compressed_length(input.count))
        var written = output.count
        let status = snappy_compress(input.chars, input.count, output.chars, &written)
        guard status == SNAPPY_OK else {
            throw CompressionFailure(codec: .snappy, message: "snappy_compress returned status \(status.rawValue)")
        }
        return output.buffer(length: written)
    }

    static func decompress(_ data: ByteBuffer, maxBytes: Int) throws(WireError) -> ByteBuffer {
        guard isXerialFramed(data) else {
            var output = ByteBuffer()
            try appendBlock(data, to: &output, maxBytes: maxBytes)
            return output
        }
        var stream = data
        stream.moveReaderIndex(forwardBy: xerialHeaderSize)
        var output = ByteBuffer()
        while stream.readableBytes > 0 {
            guard let length: Int32 = stream.readInteger() else { throw .truncated(field: "snappy block length") }
            guard length >= 0 else { throw .malformed(field: "snappy block length", reason: "negative (\(length))") }
            guard let block = stream.readSlice(length: Int(length)) else { throw .truncated(field: "snappy block") }
            try appendBlock(block, to: &output, maxBytes: maxBytes)
        }
        return output
    }

    static func isXerialFramed(_ data: ByteBuffer) -> Bool {
        guard data.readableBytes >= xerialHeaderSize,
            let magic = data.getBytes(at: data.readerIndex, length: xerialMagic.count)
        else { return false }
        return magic == xerialMagic
    }

    /// Decompresses one raw snappy block onto the end of `output`.
    private static func appendBlock(_ block: ByteBuffer, to output: inout ByteBuffer, maxBytes: Int) throws(WireError) {
        let input = NativeBytes(copying: block)
        // The block starts with its uncompressed length: refuse a bomb before allocating for it.
        var length = 0
        guard snappy_uncompressed_length(input.chars, input.count, &length) == SNAPPY_OK else {
            throw .malformed(field: "snappy records", reason: "the block does not start with a valid uncompressed length")
        }
        guard length <= maxBytes - output.readableBytes else {
            throw .tooLarge(field: "snappy-decompressed records", size: output.readableBytes + length, limit: maxBytes)
        }
        let decompressed = NativeBytes(count: length)
        var written = length
        let status = snappy_uncompress(input.chars, input.count, decompressed.chars, &written)
        guard status == SNAPPY_OK else {
            throw .malformed(field: "snappy records", reason: status == SNAPPY_BUFFER_TOO_SMALL
                ? "the block expands beyond its declared length" : "the block is corrupt or truncated")
        }
        try output.appendDecompressed(decompressed.pointer, count: written, maxBytes: maxBytes, codec: .snappy)
    }

    /// `records` in the xerial framing of the Java client: blocks of at most `blockSize` bytes.
    /// Kafka brokers and clients never need to write it; tests use it to prove it is read.
    static func xerialFramed(_ records: ByteBuffer, blockSize: Int = 32 * 1024) throws(CompressionFailure) -> ByteBuffer {
        var framed = ByteBuffer(bytes: xerialMagic)
        framed.writeInteger(Int32(1))
        framed.writeInteger(Int32(1))
        var rest = records
        repeat {
            let piece = rest.readSlice(length: min(max(blockSize, 1), rest.readableBytes)) ?? ByteBuffer()
            var block = try compress(piece)
            framed.writeInteger(Int32(truncatingIfNeeded: block.readableBytes))
            framed.writeBuffer(&block)
        } while rest.readableBytes > 0
        return framed
    }
}
