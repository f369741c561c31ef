import NIOCore

/// The tagged-field section that ends every structure in a flexible version: an unsigned varint
/// count, then per field an unsigned varint tag, an unsigned varint size and `size` bytes.
///
/// Tags the reader does not know are skipped, which is what lets newer peers add fields.
extension ByteBuffer {
    /// Reads the number of tagged fields, rejecting counts the remaining bytes cannot hold
    /// (each field takes at least two bytes: its tag and its size).
    mutating func readProtocolTaggedFieldCount(_ field: String) throws(WireError) -> Int {
        let count = try readUnsignedVarint(maxBytes: 5, field: field)
        guard count <= UInt64(readableBytes / 2) else {
            throw .truncated(field: field)
        }
        return Int(count)
    }

    /// Reads one tagged field's tag and its value as a slice of this buffer.
    mutating func readProtocolTaggedField(_ field: String) throws(WireError) -> (tag: UInt32, value: ByteBuffer) {
        let tag = try readUnsignedVarint(maxBytes: 5, field: field)
        guard let tag32 = UInt32(exactly: tag) else {
            throw .malformed(field: field, reason: "tag \(tag) does not fit in 32 bits")
        }
        let size = try readUnsignedVarint(maxBytes: 5, field: field)
        guard size <= UInt64(readableBytes), let value = readSlice(length: Int(size)) else {
            throw .truncated(field: field)
        }
        return (tag32, value)
    }

    /// Skips a whole tagged-field section; used where no tags are known.
    mutating func skipProtocolTaggedFields(_ field: String) throws(WireError) {
        let count = try readProtocolTaggedFieldCount(field)
        for _ in 0..<count {
            _ = try readProtocolTaggedField(field)
        }
    }

    /// Checks that a known tagged field's value was read to its end.
    func requireProtocolTaggedFieldConsumed(_ field: String) throws(WireError) {
        guard readableBytes == 0 else {
            throw .malformed(field: field, reason: "\(readableBytes) bytes left inside the tagged field")
        }
    }

    /// Writes a tagged-field section from fields already encoded, in ascending tag order.
    mutating func writeProtocolTaggedFields(_ fields: [(tag: UInt32, value: ByteBuffer)]) {
        writeUnsignedVarint(UInt64(fields.count))
        for field in fields {
            writeUnsignedVarint(UInt64(field.tag))
            writeUnsignedVarint(UInt64(field.value.readableBytes))
            writeImmutableBuffer(field.value)
        }
    }
}
