import KafkaWire
import NIOCore

/// Splits a TCP byte stream into Kafka request frames (a 4-byte big-endian size, then that
/// many bytes).
///
/// A negative size or one above `maxFrameBytes` is an error: the connection is closed rather than
/// buffering an attacker-chosen amount of memory.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else {
            return .needMoreData
        }
        guard size >= 0 else {
            throw WireError.malformed(field: "request size", reason: "negative size \(size)")
        }
        guard Int(size) <= maxFrameBytes else {
            throw WireError.tooLarge(field: "request", size: Int(size), limit: maxFrameBytes)
        }
        guard buffer.readableBytes >= 4 + Int(size) else {
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(size)) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is simply dropped: the client went away mid-request.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
