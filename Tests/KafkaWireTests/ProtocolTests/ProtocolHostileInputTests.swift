import NIOCore
import Testing

@testable import KafkaWire

/// Every byte from the network is hostile: these inputs must throw, quickly and without
/// allocating what they claim, and never trap.
@Suite struct ProtocolHostileInputTests {
    private static let produceHeader: [UInt8] = [0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff]

    @Test(arguments: allAdvertisedVersions)
    func everyTruncatedRequestThrows(api: ApiKey, version: Int16) {
        let full = encodedRequest(KafkaRequest.sample(api: api, version: version), version: version)
        for length in 0..<full.readableBytes {
            let prefix = full.getSlice(at: full.readerIndex, length: length) ?? ByteBuffer()
            #expect(throws: WireError.self, "\(api) v\(version) cut at \(length) of \(full.readableBytes)") {
                try decodeRequest(prefix)
            }
        }
    }

    @Test(arguments: allAdvertisedVersions)
    func everyTruncatedResponseThrows(api: ApiKey, version: Int16) {
        var full = ByteBuffer()
        KafkaResponse.sample(api: api, version: version).encode(version: version, into: &full)
        for length in 0..<full.readableBytes {
            var prefix = full.getSlice(at: full.readerIndex, length: length) ?? ByteBuffer()
            #expect(throws: WireError.self, "\(api) v\(version) cut at \(length) of \(full.readableBytes)") {
                try KafkaResponse.decode(api: api, version: version, body: &prefix)
            }
        }
    }

    @Test func trailingBytesAreRejected() {
        var buffer = encodedRequest(.heartbeat(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m")), version: 0)
        buffer.writeInteger(UInt8(0))
        #expect(throws: WireError.malformed(field: "HeartbeatRequest", reason: "1 bytes left after the last field of v0")) {
            try decodeRequest(buffer)
        }
    }

    @Test func unsupportedVersionsAndUnknownApisThrowUnsupportedAfterTheHeader() throws {
        // Metadata v9 is flexible: its header is v2 and must still be read to answer it.
        var buffer = ByteBuffer()
        RequestHeader(api: .metadata, apiVersion: 9, correlationId: 3, clientId: "c").encode(into: &buffer)
        var body = buffer
        let header = try RequestHeader.decode(from: &body)
        #expect(header.correlationId == 3)
        #expect(body.readableBytes == 0)
        #expect(throws: WireError.unsupported(apiKey: 3, version: 9)) { try KafkaRequest.decode(header: header, body: &body) }

        for (apiKey, version): (Int16, Int16) in [(0, 2), (1, 3), (4, 0), (18, 5), (-1, 0), (1000, 1)] {
            var request = ByteBuffer()
            RequestHeader(apiKey: apiKey, apiVersion: version, correlationId: 1).encode(into: &request)
            #expect(throws: WireError.unsupported(apiKey: apiKey, version: version)) { try decodeRequest(request) }
        }
    }

    @Test func hugeStringLengthIsTruncatedNotAllocated() {
        // Client ID declares 32767 bytes; four are present.
        let bytes: [UInt8] = [0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f, 0xff, 0x61, 0x62, 0x63, 0x64]
        var buffer = ByteBuffer(bytes: bytes)
        #expect(throws: WireError.truncated(field: "RequestHeader.clientId")) { try RequestHeader.decode(from: &buffer) }
    }

    @Test func hugeRecordsLengthIsTruncatedNotAllocated() {
        let bytes = Self.produceHeader + [0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8]
            + [0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]
            + [0x7f, 0xff, 0xff, 0xff, 0x01, 0x02]  // records: 2³¹-1 bytes declared, two present
        #expect(throws: WireError.truncated(field: "ProduceRequest.TopicProduceData.PartitionProduceData.records")) {
            try decodeRequest(ByteBuffer(bytes: bytes))
        }
    }

    @Test func hugeArrayCountIsTruncatedBeforeAnyElementIsRead() {
        let bytes = Self.produceHeader + [0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8]
            + [0x7f, 0xff, 0xff, 0xff] + Array(repeating: 0, count: 64)
        #expect(throws: WireError.truncated(field: "ProduceRequest.topicData")) { try decodeRequest(ByteBuffer(bytes: bytes)) }
    }

    @Test func negativeLengthsOtherThanNullAreMalformed() {
        let negativeString = Self.produceHeader + [0xff, 0xfe]  // transactional ID length -2
        #expect(throws: WireError.malformed(field: "ProduceRequest.transactionalId", reason: "negative length -2")) {
            try decodeRequest(ByteBuffer(bytes: negativeString))
        }
        let negativeArray = Self.produceHeader + [0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8, 0x80, 0x00, 0x00, 0x00]
        #expect(throws: WireError.malformed(field: "ProduceRequest.topicData", reason: "negative array count -2147483648")) {
            try decodeRequest(ByteBuffer(bytes: negativeArray))
        }
    }

    @Test func oversizedCompactLengthIsMalformed() {
        // ApiVersions v3: client software name with compact length varint 2³²-1.
        let bytes: [UInt8] = [0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]
        #expect(throws: WireError.malformed(
            field: "ApiVersionsRequest.clientSoftwareName", reason: "compact length 4294967295 - 1 does not fit in 31 bits"
        )) {
            try decodeRequest(ByteBuffer(bytes: bytes))
        }
    }

    @Test func hugeTaggedFieldCountIsTruncated() {
        // ApiVersions v3 header v2 whose tagged-field section claims 2²⁸ fields.
        let bytes: [UInt8] = [0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x80, 0x80, 0x80, 0x80, 0x01]
        var buffer = ByteBuffer(bytes: bytes)
        #expect(throws: WireError.truncated(field: "RequestHeader.taggedFields")) { try RequestHeader.decode(from: &buffer) }
    }

    @Test func nullStringWhereTheSchemaForbidsItIsMalformed() {
        // Heartbeat v0 group ID is not nullable.
        var buffer = ByteBuffer(bytes: [0xff, 0xff])
        #expect(throws: WireError.malformed(field: "HeartbeatRequest.groupId", reason: "null in a version where the field is not nullable")) {
            try HeartbeatRequest(from: &buffer, version: 0)
        }
    }
}
