import NIOCore
import Testing

@testable import KafkaWire

/// The encodings of the protocol guide's primitive types, including the compact and null forms
/// that no advertised message version happens to exercise.
@Suite struct ProtocolPrimitivesTests {
    @Test func classicAndCompactStrings() throws {
        let cases: [(String?, Bool, [UInt8])] = [
            ("ab", false, [0x00, 0x02, 0x61, 0x62]),
            ("", false, [0x00, 0x00]),
            (nil, false, [0xff, 0xff]),
            ("ab", true, [0x03, 0x61, 0x62]),
            ("", true, [0x01]),
            (nil, true, [0x00]),
        ]
        for (value, compact, bytes) in cases {
            var buffer = ByteBuffer()
            buffer.writeProtocolString(value, compact: compact, nullable: true)
            #expect(Array(buffer.readableBytesView) == bytes, "\(String(describing: value)) compact \(compact)")
            #expect(try buffer.readProtocolNullableString("s", compact: compact, nullable: true) == value)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func classicStringLongerThanInt16IsCutNotTrapped() throws {
        var buffer = ByteBuffer()
        buffer.writeProtocolString(String(repeating: "a", count: 40_000), compact: false)
        #expect(buffer.readableBytes == 2 + Int(Int16.max))
        #expect(try buffer.readProtocolString("s", compact: false).utf8.count == Int(Int16.max))
    }

    @Test func classicAndCompactBytes() throws {
        let cases: [(ByteBuffer?, Bool, [UInt8])] = [
            (ByteBuffer(bytes: [9]), false, [0x00, 0x00, 0x00, 0x01, 0x09]),
            (nil, false, [0xff, 0xff, 0xff, 0xff]),
            (ByteBuffer(bytes: [9]), true, [0x02, 0x09]),
            (nil, true, [0x00]),
        ]
        for (value, compact, bytes) in cases {
            var buffer = ByteBuffer()
            buffer.writeProtocolBytes(value, compact: compact, nullable: true)
            #expect(Array(buffer.readableBytesView) == bytes)
            #expect(try buffer.readProtocolBytes("b", compact: compact, nullable: true) == value)
        }
    }

    @Test func classicAndCompactArrays() throws {
        let cases: [([Int32]?, Bool, [UInt8])] = [
            ([7], false, [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07]),
            (nil, false, [0xff, 0xff, 0xff, 0xff]),
            ([7], true, [0x02, 0x00, 0x00, 0x00, 0x07]),
            ([], true, [0x01]),
            (nil, true, [0x00]),
        ]
        for (value, compact, bytes) in cases {
            var buffer = ByteBuffer()
            buffer.writeProtocolArray(value, compact: compact, nullable: true) { buffer, element in buffer.writeInteger(element) }
            #expect(Array(buffer.readableBytesView) == bytes)
            let decoded = try buffer.readProtocolNullableArray("a", compact: compact, nullable: true, minimumElementSize: 4) {
                (buffer: inout ByteBuffer) throws(WireError) -> Int32 in
                try buffer.readProtocolInteger("a")
            }
            #expect(decoded == value)
        }
    }

    @Test func compactNullWhereNotNullableIsMalformed() {
        var buffer = ByteBuffer(bytes: [0x00])
        #expect(throws: WireError.malformed(field: "s", reason: "null in a version where the field is not nullable")) {
            try buffer.readProtocolString("s", compact: true)
        }
    }

    @Test func arrayCountIsCheckedAgainstTheElementSize() {
        // Three declared int64 elements need 24 bytes; 23 are present.
        var buffer = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x03] + Array(repeating: 0, count: 23))
        #expect(throws: WireError.truncated(field: "a")) {
            try buffer.readProtocolArray("a", compact: false, minimumElementSize: 8) {
                (buffer: inout ByteBuffer) throws(WireError) -> Int64 in
                try buffer.readProtocolInteger("a")
            }
        }
    }

    @Test func taggedFieldWithOversizedLengthIsTruncated() {
        // One tagged field, tag 0, declaring 100 bytes of which 1 is present.
        var buffer = ByteBuffer(bytes: [0x01, 0x00, 0x64, 0x00])
        #expect(throws: WireError.truncated(field: "t")) { try buffer.skipProtocolTaggedFields("t") }
    }

    @Test func boolTreatsAnyNonZeroByteAsTrue() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x01, 0x7f])
        #expect(try buffer.readProtocolBool("b") == false)
        #expect(try buffer.readProtocolBool("b") == true)
        #expect(try buffer.readProtocolBool("b") == true)
    }

    @Test func requestFrameCarriesItsSize() throws {
        let header = RequestHeader(api: .heartbeat, apiVersion: 3, correlationId: 11, clientId: "c")
        let request = KafkaRequest.heartbeat(HeartbeatRequest(groupId: "g", generationId: 2, memberId: "m", groupInstanceId: "i"))
        var frame = RequestFrame.encode(header: header, request: request)
        let size: Int32 = try frame.readProtocolInteger("size")
        #expect(Int(size) == frame.readableBytes)
        let (decodedHeader, decoded) = try decodeRequest(frame)
        #expect(decodedHeader == header)
        #expect(decoded == request)
    }
}
