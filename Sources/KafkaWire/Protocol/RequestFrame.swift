import NIOCore

/// A complete request as a client puts it on the wire: a 4-byte size, the request header and
/// the body. The broker only reads requests; this is for tests and tools that speak to it raw.
public enum RequestFrame {
    /// Encodes a whole request frame, size prefix included, in `header.apiVersion`.
    public static func encode(header: RequestHeader, request: KafkaRequest) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(0))  // size, patched below once the frame is written
        header.encode(into: &buffer)
        request.encode(version: header.apiVersion, into: &buffer)
        buffer.setInteger(Int32(clamping: buffer.readableBytes - 4), at: buffer.readerIndex)
        return buffer
    }
}
