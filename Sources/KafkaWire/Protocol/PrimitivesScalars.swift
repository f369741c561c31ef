import NIOCore

/// Fixed-width protocol fields: `int8`…`int64` (big-endian) and `bool` (one byte, non-zero is true).
extension ByteBuffer {
    /// Reads a big-endian fixed-width integer, naming `field` when the input ends inside it.
    mutating func readProtocolInteger<Value: FixedWidthInteger>(
        _ field: String,
        as: Value.Type = Value.self
    ) throws(WireError) -> Value {
        guard let value = readInteger(endianness: .big, as: Value.self) else {
            throw .truncated(field: field)
        }
        return value
    }

    /// Reads a `bool`: Kafka treats any non-zero byte as true.
    mutating func readProtocolBool(_ field: String) throws(WireError) -> Bool {
        try readProtocolInteger(field, as: UInt8.self) != 0
    }

    /// Writes a `bool` as one byte, 1 or 0.
    mutating func writeProtocolBool(_ value: Bool) {
        writeInteger(value ? 1 : 0, as: UInt8.self)
    }
}
