import NIOCore

/// A complete response as it goes on the wire: a 4-byte size, the response header and the body.
///
/// The header is v0 (`correlationId:int32`) or, in flexible versions, v1 (plus a tagged-field
/// section). ApiVersions is the exception: its response header is always v0, because a client
/// must be able to read it before it knows which versions the broker speaks.
public enum ResponseFrame {
    /// Encodes a whole response frame, size prefix included.
    public static func encode(correlationId: Int32, api: ApiKey, version: Int16, response: KafkaResponse) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(0))  // size, patched below once the frame is written
        buffer.writeInteger(correlationId)
        if usesHeaderV1(api: api, version: version) {
            buffer.writeProtocolTaggedFields([])
        }
        response.encode(version: version, into: &buffer)
        buffer.setInteger(Int32(clamping: buffer.readableBytes - 4), at: buffer.readerIndex)
        return buffer
    }

    /// Reads the response header at the front of `buffer` (after the size prefix) and returns
    /// its correlation ID, leaving `buffer` at the start of the body.
    public static func decodeHeader(api: ApiKey, version: Int16, from buffer: inout ByteBuffer) throws(WireError) -> Int32 {
        let correlationId: Int32 = try buffer.readProtocolInteger("ResponseHeader.correlationId")
        if usesHeaderV1(api: api, version: version) {
            try buffer.skipProtocolTaggedFields("ResponseHeader.taggedFields")
        }
        return correlationId
    }

    /// Whether the response header for `api`/`version` is v1 (with tagged fields).
    public static func usesHeaderV1(api: ApiKey, version: Int16) -> Bool {
        api != .apiVersions && SupportedApiVersions.isFlexible(api, version: version)
    }
}
