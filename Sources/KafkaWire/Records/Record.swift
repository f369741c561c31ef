import NIOCore

/// A header of a record: a string key and optional bytes.
public struct RecordHeader: Sendable, Equatable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}

/// One record inside a v2 batch.
///
/// Wire layout: `length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
/// keyLength:varint key valueLength:varint value headersCount:varint headers…`, lengths of -1
/// meaning null.
public struct Record: Sendable, Equatable {
    /// Unused by Kafka today; kept so a decoded record re-encodes byte for byte.
    public var attributes: Int8
    /// Milliseconds after the batch's `baseTimestamp`.
    public var timestampDelta: Int64
    /// Position after the batch's `baseOffset`.
    public var offsetDelta: Int32
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(
        offsetDelta: Int32,
        timestampDelta: Int64 = 0,
        key: ByteBuffer? = nil,
        value: ByteBuffer?,
        headers: [RecordHeader] = [],
        attributes: Int8 = 0
    ) {
        self.attributes = attributes
        self.timestampDelta = timestampDelta
        self.offsetDelta = offsetDelta
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Appends the record's wire form to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        body.writeInteger(attributes)
        body.writeVarlong(timestampDelta)
        body.writeVarint(offsetDelta)
        Self.writeNullableBytes(key, to: &body)
        Self.writeNullableBytes(value, to: &body)
        body.writeVarint(Int32(truncatingIfNeeded: headers.count))
        for header in headers {
            body.writeVarint(Int32(truncatingIfNeeded: header.key.utf8.count))
            body.writeString(header.key)
            Self.writeNullableBytes(header.value, to: &body)
        }
        buffer.writeVarint(Int32(truncatingIfNeeded: body.readableBytes))
        buffer.writeImmutableBuffer(body)
    }

    /// Reads one record from `buffer`, consuming it.
    ///
    /// - Throws: `WireError` when a length is negative or runs past the record, or the record's
    ///   declared length disagrees with its fields.
    public static func read(from buffer: inout ByteBuffer) throws(WireError) -> Record {
        let length = try buffer.readVarint(field: "record length")
        guard length >= 0 else { throw .malformed(field: "record length", reason: "negative (\(length))") }
        guard var body = buffer.readSlice(length: Int(length)) else { throw .truncated(field: "record") }
        guard let attributes: Int8 = body.readInteger() else { throw .truncated(field: "record attributes") }
        let timestampDelta = try body.readVarlong(field: "timestampDelta")
        let offsetDelta = try body.readVarint(field: "offsetDelta")
        let key = try readNullableBytes(from: &body, field: "record key")
        let value = try readNullableBytes(from: &body, field: "record value")
        let headerCount = try body.readVarint(field: "headersCount")
        guard headerCount >= 0 else { throw .malformed(field: "headersCount", reason: "negative (\(headerCount))") }
        var headers: [RecordHeader] = []
        // Each header takes at least 2 bytes: bound the reservation by what is present.
        headers.reserveCapacity(min(Int(headerCount), body.readableBytes / 2))
        for _ in 0..<headerCount {
            let keyLength = try body.readVarint(field: "header key length")
            guard keyLength >= 0 else { throw .malformed(field: "header key length", reason: "negative (\(keyLength))") }
            guard let headerKey = body.readString(length: Int(keyLength)) else { throw .truncated(field: "header key") }
            let headerValue = try readNullableBytes(from: &body, field: "header value")
            headers.append(RecordHeader(key: headerKey, value: headerValue))
        }
        guard body.readableBytes == 0 else {
            throw .malformed(field: "record length", reason: "\(body.readableBytes) bytes left after the record's fields")
        }
        return Record(
            offsetDelta: offsetDelta,
            timestampDelta: timestampDelta,
            key: key,
            value: value,
            headers: headers,
            attributes: attributes
        )
    }

    /// Checks one record's framing and moves past it, returning its offset delta.
    static func skip(from buffer: inout ByteBuffer) throws(WireError) -> Int32 {
        let length = try buffer.readVarint(field: "record length")
        guard length >= 0 else { throw .malformed(field: "record length", reason: "negative (\(length))") }
        guard var body = buffer.readSlice(length: Int(length)) else { throw .truncated(field: "record") }
        guard body.readInteger(as: Int8.self) != nil else { throw .truncated(field: "record attributes") }
        _ = try body.readVarlong(field: "timestampDelta")
        let offsetDelta = try body.readVarint(field: "offsetDelta")
        try skipNullableBytes(&body, field: "record key")
        try skipNullableBytes(&body, field: "record value")
        let headerCount = try body.readVarint(field: "headersCount")
        guard headerCount >= 0 else { throw .malformed(field: "headersCount", reason: "negative (\(headerCount))") }
        for _ in 0..<headerCount {
            let keyLength = try body.readVarint(field: "header key length")
            guard keyLength >= 0 else { throw .malformed(field: "header key length", reason: "negative (\(keyLength))") }
            guard body.readableBytes >= Int(keyLength) else { throw .truncated(field: "header key") }
            body.moveReaderIndex(forwardBy: Int(keyLength))
            try skipNullableBytes(&body, field: "header value")
        }
        guard body.readableBytes == 0 else {
            throw .malformed(field: "record length", reason: "\(body.readableBytes) bytes left after the record's fields")
        }
        return offsetDelta
    }

    private static func skipNullableBytes(_ buffer: inout ByteBuffer, field: String) throws(WireError) {
        let length = try buffer.readVarint(field: field + " length")
        if length == -1 { return }
        guard length >= 0 else { throw .malformed(field: field + " length", reason: "negative (\(length))") }
        guard buffer.readableBytes >= Int(length) else { throw .truncated(field: field) }
        buffer.moveReaderIndex(forwardBy: Int(length))
    }

    private static func writeNullableBytes(_ bytes: ByteBuffer?, to buffer: inout ByteBuffer) {
        guard let bytes else {
            buffer.writeVarint(-1)
            return
        }
        buffer.writeVarint(Int32(truncatingIfNeeded: bytes.readableBytes))
        buffer.writeImmutableBuffer(bytes)
    }

    private static func readNullableBytes(from buffer: inout ByteBuffer, field: String) throws(WireError) -> ByteBuffer? {
        let length = try buffer.readVarint(field: field + " length")
        if length == -1 { return nil }
        guard length >= 0 else { throw .malformed(field: field + " length", reason: "negative (\(length))") }
        guard let bytes = buffer.readSlice(length: Int(length)) else { throw .truncated(field: field) }
        return bytes
    }
}
