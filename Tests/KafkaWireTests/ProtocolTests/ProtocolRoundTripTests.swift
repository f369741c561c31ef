import NIOCore
import Testing

@testable import KafkaWire

/// Every advertised API and version, as test arguments.
let allAdvertisedVersions: [(ApiKey, Int16)] = ApiKey.allCases.flatMap { api in
    (SupportedApiVersions.ranges[api] ?? 0...(-1)).map { (api, $0) }
}

/// The lowest and highest advertised version of every API.
let boundaryVersions: [(ApiKey, Int16)] = ApiKey.allCases.flatMap { api -> [(ApiKey, Int16)] in
    guard let range = SupportedApiVersions.ranges[api] else { return [] }
    return range.lowerBound == range.upperBound
        ? [(api, range.lowerBound)] : [(api, range.lowerBound), (api, range.upperBound)]
}

/// Encodes `request` as a complete request (header + body) the way a client would.
func encodedRequest(_ request: KafkaRequest, version: Int16, correlationId: Int32 = 7, clientId: String? = "rdkafka") -> ByteBuffer {
    var buffer = ByteBuffer()
    RequestHeader(api: request.api, apiVersion: version, correlationId: correlationId, clientId: clientId).encode(into: &buffer)
    request.encode(version: version, into: &buffer)
    return buffer
}

/// Decodes a complete request (header + body) the way the broker does.
func decodeRequest(_ buffer: ByteBuffer) throws(WireError) -> (RequestHeader, KafkaRequest) {
    var buffer = buffer
    let header = try RequestHeader.decode(from: &buffer)
    return (header, try KafkaRequest.decode(header: header, body: &buffer))
}

@Suite struct ProtocolRoundTripTests {
    @Test(arguments: allAdvertisedVersions)
    func requestRoundTrips(api: ApiKey, version: Int16) throws {
        let request = KafkaRequest.sample(api: api, version: version)
        let (header, decoded) = try decodeRequest(encodedRequest(request, version: version))
        #expect(header.api == api)
        #expect(header.apiVersion == version)
        #expect(header.correlationId == 7)
        #expect(header.clientId == "rdkafka")
        #expect(decoded == request)
    }

    @Test(arguments: allAdvertisedVersions)
    func responseRoundTrips(api: ApiKey, version: Int16) throws {
        let response = KafkaResponse.sample(api: api, version: version)
        var frame = ResponseFrame.encode(correlationId: 42, api: api, version: version, response: response)
        let size: Int32 = try frame.readProtocolInteger("size")
        #expect(Int(size) == frame.readableBytes)
        #expect(try ResponseFrame.decodeHeader(api: api, version: version, from: &frame) == 42)
        let decoded = try KafkaResponse.decode(api: api, version: version, body: &frame)
        #expect(decoded == response)
        #expect(frame.readableBytes == 0)
    }

    /// The sample fixtures must really differ from the defaults, or the round trips above
    /// would pass even if a field were never written.
    @Test(arguments: boundaryVersions)
    func samplesDifferFromDefaults(api: ApiKey, version: Int16) {
        var sampleBytes = ByteBuffer()
        KafkaRequest.sample(api: api, version: version).encode(version: version, into: &sampleBytes)
        var defaultBytes = ByteBuffer()
        KafkaRequest.defaultValue(api: api).encode(version: version, into: &defaultBytes)
        if defaultBytes.readableBytes == 0 {
            #expect(sampleBytes.readableBytes == 0, "a body without fields (ListGroups v0-v2, ApiVersions v0-v2)")
        } else {
            #expect(sampleBytes != defaultBytes)
        }
    }

    @Test func fieldsOutsideTheVersionAreLeftOut() throws {
        // Metadata v0 has no allowAutoTopicCreation (v4+): it is not written and decodes as default.
        var request = MetadataRequest(topics: [.init(name: "orders")], allowAutoTopicCreation: false)
        var buffer = ByteBuffer()
        request.encode(into: &buffer, version: 0)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 1, 0, 6] + Array("orders".utf8))
        request.allowAutoTopicCreation = true
        #expect(try MetadataRequest(from: &buffer, version: 0) == request)
    }

    @Test func nullInANonNullableVersionIsWrittenAsEmpty() throws {
        // Metadata topics are nullable from v1 only; v0 has no way to say null, so nil becomes [].
        var buffer = ByteBuffer()
        MetadataRequest(topics: nil).encode(into: &buffer, version: 0)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 0])
        #expect(try MetadataRequest(from: &buffer, version: 0).topics == [])

        buffer.clear()
        MetadataRequest(topics: nil).encode(into: &buffer, version: 1)
        #expect(Array(buffer.readableBytesView) == [0xff, 0xff, 0xff, 0xff])
        #expect(try MetadataRequest(from: &buffer, version: 1).topics == nil)
    }

    @Test func nullWhereTheVersionForbidsItIsMalformed() {
        var buffer = ByteBuffer(bytes: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireError.malformed(field: "MetadataRequest.topics", reason: "null array in a version where the field is not nullable")) {
            try MetadataRequest(from: &buffer, version: 0)
        }
    }

    @Test func taggedFieldsRoundTripAndUnknownTagsAreSkipped() throws {
        let response = ApiVersionsResponse(
            apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 4)],
            supportedFeatures: [.init(name: "metadata.version", minVersion: 1, maxVersion: 20)],
            finalizedFeaturesEpoch: 9
        )
        var known = ByteBuffer()
        response.encode(into: &known, version: 3)
        #expect(try ApiVersionsResponse(from: &known, version: 3) == response)

        // Tag 1 (known) followed by tag 7, which this codec does not know.
        var withUnknown = ByteBuffer()
        withUnknown.writeInteger(Int16(0))
        withUnknown.writeUnsignedVarint(2)  // one api key
        withUnknown.writeBytes([0, 18, 0, 0, 0, 4, 0])
        withUnknown.writeInteger(Int32(0))
        withUnknown.writeUnsignedVarint(2)  // two tagged fields
        withUnknown.writeUnsignedVarint(1)
        withUnknown.writeUnsignedVarint(8)
        withUnknown.writeInteger(Int64(9))
        withUnknown.writeUnsignedVarint(7)
        withUnknown.writeUnsignedVarint(3)
        withUnknown.writeBytes([1, 2, 3])
        let decoded = try ApiVersionsResponse(from: &withUnknown, version: 3)
        #expect(decoded.finalizedFeaturesEpoch == 9)
        #expect(decoded.apiKeys == [.init(apiKey: 18, minVersion: 0, maxVersion: 4)])
        #expect(withUnknown.readableBytes == 0)
    }

    @Test func nestedTypesCanBeNamedAfterTheirField() {
        let partition = ProduceRequest.TopicData.PartitionData(index: 3, records: ByteBuffer(bytes: [1]))
        let topic = ProduceRequest.TopicData(name: "orders", partitionData: [partition])
        #expect(ProduceRequest(acks: -1, topicData: [topic]).topicData[0].partitionData[0].index == 3)
    }
}
