import NIOCore

/// Kafka's variable-length integers: unsigned LEB128 (`UNSIGNED_VARINT`, used by compact
/// fields and tagged fields) and zig-zag encoded signed values (`VARINT`/`VARLONG`, used inside
/// record batches).
extension ByteBuffer {
    /// Writes `value` as an unsigned varint (7 bits per byte, low groups first).
    @discardableResult
    public mutating func writeUnsignedVarint(_ value: UInt64) -> Int {
        var remaining = value
        var written = 0
        while remaining >= 0x80 {
            written += writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        written += writeInteger(UInt8(truncatingIfNeeded: remaining))
        return written
    }

    /// Reads an unsigned varint of at most `maxBytes` bytes (5 for 32-bit fields, 10 for 64-bit).
    ///
    /// - Throws: `WireError.truncated` when the buffer ends inside the value,
    ///   `WireError.malformed` when the value is longer than `maxBytes`. Nothing is consumed on error.
    public mutating func readUnsignedVarint(maxBytes: Int = 10, field: String = "varint") throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = readerIndex
        for _ in 0..<maxBytes {
            guard let byte: UInt8 = getInteger(at: index) else {
                throw .truncated(field: field)
            }
            index += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                moveReaderIndex(to: index)
                return result
            }
            shift += 7
        }
        throw .malformed(field: field, reason: "varint longer than \(maxBytes) bytes")
    }

    /// Writes a signed 64-bit value zig-zag encoded (`VARLONG`).
    @discardableResult
    public mutating func writeVarlong(_ value: Int64) -> Int {
        writeUnsignedVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Writes a signed 32-bit value zig-zag encoded (`VARINT`).
    @discardableResult
    public mutating func writeVarint(_ value: Int32) -> Int {
        writeVarlong(Int64(value))
    }

    /// Reads a zig-zag encoded signed 64-bit value (`VARLONG`, at most 10 bytes).
    public mutating func readVarlong(field: String = "varlong") throws(WireError) -> Int64 {
        let raw = try readUnsignedVarint(maxBytes: 10, field: field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a zig-zag encoded signed 32-bit value (`VARINT`, at most 5 bytes).
    public mutating func readVarint(field: String = "varint") throws(WireError) -> Int32 {
        let raw = try readUnsignedVarint(maxBytes: 5, field: field)
        let decoded = Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
        guard let value = Int32(exactly: decoded) else {
            throw .malformed(field: field, reason: "value \(decoded) does not fit in 32 bits")
        }
        return value
    }
}
