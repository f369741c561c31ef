import NIOCore

/// Protocol arrays: an int32 count (-1 for null), or in flexible versions an unsigned varint of
/// count + 1 (0 for null), followed by the elements.
extension ByteBuffer {
    /// Reads an array count and returns `nil` for null.
    ///
    /// A count whose elements could not fit in the remaining bytes is rejected before any
    /// element is read, so a hostile count never drives allocation or a long loop.
    ///
    /// - Parameter minimumElementSize: the fewest bytes one element can occupy on the wire.
    mutating func readProtocolArrayCount(_ field: String, compact: Bool, minimumElementSize: Int) throws(WireError) -> Int? {
        let count: Int64
        if compact {
            let raw = try readUnsignedVarint(maxBytes: 5, field: field)
            guard raw <= UInt64(Int32.max) + 1 else {
                throw .malformed(field: field, reason: "compact array count \(raw) - 1 does not fit in 31 bits")
            }
            count = Int64(raw) - 1
        } else {
            count = Int64(try readProtocolInteger(field, as: Int32.self))
        }
        if count == -1 {
            return nil
        }
        guard count >= 0 else {
            throw .malformed(field: field, reason: "negative array count \(count)")
        }
        guard count * Int64(Swift.max(minimumElementSize, 1)) <= readableBytes else {
            throw .truncated(field: field)
        }
        return Int(count)
    }

    /// Reads an array that may be null in this version.
    ///
    /// - Parameter nullable: whether the schema allows null here; a null where it does not is malformed.
    mutating func readProtocolNullableArray<Element>(
        _ field: String,
        compact: Bool,
        nullable: Bool,
        minimumElementSize: Int,
        _ readElement: (inout ByteBuffer) throws(WireError) -> Element
    ) throws(WireError) -> [Element]? {
        guard let count = try readProtocolArrayCount(field, compact: compact, minimumElementSize: minimumElementSize) else {
            guard nullable else {
                throw .malformed(field: field, reason: "null array in a version where the field is not nullable")
            }
            return nil
        }
        var elements: [Element] = []
        // The count already fits the remaining bytes, but an element in memory can be many
        // times its wire size; beyond the cap, growth follows the elements actually decoded.
        elements.reserveCapacity(Swift.min(count, 1024))
        for _ in 0..<count {
            elements.append(try readElement(&self))
        }
        return elements
    }

    /// Reads an array that is never null in this version.
    mutating func readProtocolArray<Element>(
        _ field: String,
        compact: Bool,
        minimumElementSize: Int,
        _ readElement: (inout ByteBuffer) throws(WireError) -> Element
    ) throws(WireError) -> [Element] {
        try readProtocolNullableArray(
            field, compact: compact, nullable: false, minimumElementSize: minimumElementSize, readElement
        ) ?? []
    }

    /// Writes an array. A `nil` where the field is not nullable is written as an empty array.
    mutating func writeProtocolArray<Element>(
        _ elements: [Element]?,
        compact: Bool,
        nullable: Bool = false,
        _ writeElement: (inout ByteBuffer, Element) -> Void
    ) {
        guard let elements = elements ?? (nullable ? nil : []) else {
            if compact {
                writeUnsignedVarint(0)
            } else {
                writeInteger(Int32(-1))
            }
            return
        }
        if compact {
            writeUnsignedVarint(UInt64(elements.count) + 1)
        } else {
            writeInteger(Int32(clamping: elements.count))
        }
        for element in elements {
            writeElement(&self, element)
        }
    }
}
