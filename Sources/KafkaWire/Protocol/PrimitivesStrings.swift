import NIOCore

/// Length-prefixed protocol fields: `string` and `bytes`/`records`, in their classic form
/// (int16/int32 length, -1 for null) and their compact form (unsigned varint of length + 1,
/// 0 for null) used by flexible versions.
///
/// Every declared length is checked against the bytes that remain before anything is read or
/// allocated, so a hostile length of 2³¹ costs nothing but a thrown error.
extension ByteBuffer {
    /// Reads a length prefix and returns `nil` for null; throws for lengths that cannot be right.
    ///
    /// - Parameters:
    ///   - compact: unsigned varint of length + 1 (flexible versions) instead of int16/int32.
    ///   - wide: an int32 prefix (`bytes`, `records`) rather than int16 (`string`).
    mutating func readProtocolLength(_ field: String, compact: Bool, wide: Bool) throws(WireError) -> Int? {
        let length: Int64
        if compact {
            let raw = try readUnsignedVarint(maxBytes: 5, field: field)
            guard raw <= UInt64(Int32.max) + 1 else {
                throw .malformed(field: field, reason: "compact length \(raw) - 1 does not fit in 31 bits")
            }
            length = Int64(raw) - 1
        } else if wide {
            length = Int64(try readProtocolInteger(field, as: Int32.self))
        } else {
            length = Int64(try readProtocolInteger(field, as: Int16.self))
        }
        if length == -1 {
            return nil
        }
        guard length >= 0 else {
            throw .malformed(field: field, reason: "negative length \(length)")
        }
        guard length <= readableBytes else {
            throw .truncated(field: field)
        }
        return Int(length)
    }

    /// Reads a `string` that may be null in this version.
    ///
    /// - Parameter nullable: whether the schema allows null here; a null where it does not is malformed.
    mutating func readProtocolNullableString(_ field: String, compact: Bool, nullable: Bool) throws(WireError) -> String? {
        guard let length = try readProtocolLength(field, compact: compact, wide: false) else {
            guard nullable else {
                throw .malformed(field: field, reason: "null in a version where the field is not nullable")
            }
            return nil
        }
        // The length was checked against readableBytes, so this cannot fail.
        return readString(length: length) ?? ""
    }

    /// Reads a `string` that is never null in this version.
    mutating func readProtocolString(_ field: String, compact: Bool) throws(WireError) -> String {
        try readProtocolNullableString(field, compact: compact, nullable: false) ?? ""
    }

    /// Reads `bytes` or `records` as a slice of this buffer (no copy).
    ///
    /// - Parameter nullable: whether the schema allows null here; a null where it does not is malformed.
    mutating func readProtocolBytes(_ field: String, compact: Bool, nullable: Bool) throws(WireError) -> ByteBuffer? {
        guard let length = try readProtocolLength(field, compact: compact, wide: true) else {
            guard nullable else {
                throw .malformed(field: field, reason: "null in a version where the field is not nullable")
            }
            return nil
        }
        return readSlice(length: length) ?? ByteBuffer()
    }

    /// Writes a `string`. A `nil` in a version where the field is not nullable is written as
    /// the empty string, because a peer of that version cannot read a null.
    mutating func writeProtocolString(_ value: String?, compact: Bool, nullable: Bool = false) {
        guard let value = value ?? (nullable ? nil : "") else {
            writeProtocolNullLength(compact: compact, wide: false)
            return
        }
        let utf8 = value.utf8
        if compact {
            writeUnsignedVarint(UInt64(utf8.count) + 1)
            writeBytes(utf8)
        } else {
            // Longer than Int16.max bytes cannot be expressed: cut rather than trap. The broker
            // writes no such strings (topic names are at most 249 bytes, messages are short).
            let length = Int16(clamping: utf8.count)
            writeInteger(length)
            writeBytes(utf8.prefix(Int(length)))
        }
    }

    /// Writes `bytes` or `records`. A `nil` where the field is not nullable is written as empty.
    mutating func writeProtocolBytes(_ value: ByteBuffer?, compact: Bool, nullable: Bool = false) {
        guard let value = value ?? (nullable ? nil : ByteBuffer()) else {
            writeProtocolNullLength(compact: compact, wide: true)
            return
        }
        if compact {
            writeUnsignedVarint(UInt64(value.readableBytes) + 1)
        } else {
            writeInteger(Int32(clamping: value.readableBytes))
        }
        writeImmutableBuffer(value)
    }

    mutating func writeProtocolNullLength(compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(0)
        } else if wide {
            writeInteger(Int32(-1))
        } else {
            writeInteger(Int16(-1))
        }
    }
}
