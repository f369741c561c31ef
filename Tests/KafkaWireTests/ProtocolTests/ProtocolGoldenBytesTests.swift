import NIOCore
import Testing

@testable import KafkaWire

/// Requests and responses built byte by byte from the Kafka protocol guide, so the codecs are
/// checked against the specification and not only against themselves.
@Suite struct ProtocolGoldenBytesTests {
    private static let rdkafka = Array("rdkafka".utf8)

    @Test func apiVersionsV0RequestAsLibrdkafkaSendsIt() throws {
        // Header v1: api key 18, version 0, correlation ID 1, client ID "rdkafka"; empty body.
        let bytes: [UInt8] = [0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07] + Self.rdkafka
        let (header, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(header == RequestHeader(api: .apiVersions, apiVersion: 0, correlationId: 1, clientId: "rdkafka"))
        #expect(request == .apiVersions(ApiVersionsRequest()))
        #expect(Array(encodedRequest(request, version: 0, correlationId: 1).readableBytesView) == bytes)
    }

    @Test func apiVersionsV3RequestAsLibrdkafkaSendsIt() throws {
        // Header v2 (tagged fields, but the client ID keeps its int16 length), then compact
        // strings "librdkafka" (length 10 + 1) and "v2.0.2" (6 + 1) and an empty tag section.
        let bytes: [UInt8] = [0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x07] + Self.rdkafka + [0x00]
            + [0x0b] + Array("librdkafka".utf8) + [0x07] + Array("v2.0.2".utf8) + [0x00]
        let (header, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(header.apiVersion == 3)
        #expect(header.correlationId == 2)
        #expect(request == .apiVersions(ApiVersionsRequest(clientSoftwareName: "librdkafka", clientSoftwareVersion: "v2.0.2")))
        #expect(Array(encodedRequest(request, version: 3, correlationId: 2).readableBytesView) == bytes)
    }

    @Test func apiVersionsV4RequestAsKafkaPythonSendsIt() throws {
        let clientId = Array("kafka-python-3.0.12".utf8)
        let bytes: [UInt8] = [0x00, 0x12, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, UInt8(clientId.count)] + clientId + [0x00]
            + [0x0d] + Array("kafka-python".utf8) + [0x07] + Array("3.0.12".utf8) + [0x00]
        let (header, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(header.clientId == "kafka-python-3.0.12")
        #expect(request == .apiVersions(ApiVersionsRequest(clientSoftwareName: "kafka-python", clientSoftwareVersion: "3.0.12")))
    }

    @Test func apiVersionsV3ResponseKeepsHeaderV0() {
        let frame = ResponseFrame.encode(
            correlationId: 42, api: .apiVersions, version: 3,
            response: .apiVersions(ApiVersionsResponse(apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 4)]))
        )
        let expected: [UInt8] = [0x00, 0x00, 0x00, 0x13]  // size 19
            + [0x00, 0x00, 0x00, 0x2a]  // correlation ID, and no tagged-field byte after it
            + [0x00, 0x00]  // error code
            + [0x02, 0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00]  // compact array of one api key
            + [0x00, 0x00, 0x00, 0x00]  // throttle time
            + [0x00]  // no tagged fields
        #expect(Array(frame.readableBytesView) == expected)
    }

    @Test func apiVersionsV0ResponseAdvertisesTheTable() throws {
        let response = ApiVersionsResponse.advertising()
        var body = ByteBuffer()
        response.encode(into: &body, version: 0)
        #expect(try body.readProtocolInteger("error", as: Int16.self) == 0)
        #expect(try body.readProtocolInteger("count", as: Int32.self) == Int32(ApiKey.allCases.count))
        #expect(try body.readProtocolInteger("key", as: Int16.self) == 0)  // Produce first
        #expect(try body.readProtocolInteger("min", as: Int16.self) == 3)
        #expect(try body.readProtocolInteger("max", as: Int16.self) == 8)
        #expect(response.apiKeys.map(\.apiKey) == ApiKey.allCases.map(\.rawValue).sorted())
    }

    @Test func metadataV1Request() throws {
        let clientId = Array("kcat".utf8)
        let bytes: [UInt8] = [0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x04] + clientId
            + [0x00, 0x00, 0x00, 0x02, 0x00, 0x06] + Array("orders".utf8) + [0x00, 0x01] + Array("x".utf8)
        let (header, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(header == RequestHeader(api: .metadata, apiVersion: 1, correlationId: 5, clientId: "kcat"))
        #expect(request == .metadata(MetadataRequest(topics: [.init(name: "orders"), .init(name: "x")])))
        #expect(Array(encodedRequest(request, version: 1, correlationId: 5, clientId: "kcat").readableBytesView) == bytes)
    }

    @Test func produceV3RequestWithNullClientId() throws {
        let bytes: [UInt8] = [0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 0xff, 0xff]  // header, client ID null
            + [0xff, 0xff]  // transactional ID null
            + [0xff, 0xff]  // acks -1
            + [0x00, 0x00, 0x75, 0x30]  // timeout 30000 ms
            + [0x00, 0x00, 0x00, 0x01, 0x00, 0x06] + Array("orders".utf8)
            + [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02]  // one partition, index 2
            + [0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc]  // records stay opaque bytes
        let (header, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(header == RequestHeader(api: .produce, apiVersion: 3, correlationId: 9, clientId: nil))
        let expected = ProduceRequest(acks: -1, timeoutMs: 30_000, topicData: [
            .init(name: "orders", partitionData: [.init(index: 2, records: ByteBuffer(bytes: [0xaa, 0xbb, 0xcc]))])
        ])
        #expect(request == .produce(expected))
        #expect(Array(encodedRequest(request, version: 3, correlationId: 9, clientId: nil).readableBytesView) == bytes)
    }
}
