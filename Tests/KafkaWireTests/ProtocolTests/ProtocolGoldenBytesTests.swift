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
        // strings "librdkafka" (length 10 + 1) and "2.0.2" (5 + 1) and an empty tag section.
        let bytes: [UInt8] = [0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07] + Self.rdkafka + [0x00]
            + [0x0b] + Array("librdkafka".utf8) + [0x06] + Array("2.0.2".utf8) + [0x00]
        let (header, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(header.apiVersion == 3)
        #expect(header.correlationId == 1)
        #expect(request == .apiVersions(ApiVersionsRequest(clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2")))
        #expect(Array(encodedRequest(request, version: 3, correlationId: 1).readableBytesView) == bytes)
    }

    /// First frames captured on a loopback socket from the installed clients (size prefix
    /// removed): kcat with librdkafka 2.0.2, confluent-kafka 2.16.1 and kafka-python 3.0.12.
    @Test(arguments: [
        ("kcat", "0012000300000001000772646b61666b61000b6c696272646b61666b6106322e302e3200",
         "rdkafka", "librdkafka", "2.0.2"),
        ("confluent-kafka",
         "0012000300000001000772646b61666b610017636f6e666c75656e742d6b61666b612d707974686f6e16322e31362e312d72646b61666b612d322e31362e3000",
         "rdkafka", "confluent-kafka-python", "2.16.1-rdkafka-2.16.0"),
        ("kafka-python",
         "001200040000000100176b61666b612d707974686f6e2d70726f64756365722d31000d6b61666b612d707974686f6e07332e302e313200",
         "kafka-python-producer-1", "kafka-python", "3.0.12"),
    ])
    func apiVersionsRequestsCapturedFromRealClients(
        client: String, hex: String, clientId: String, softwareName: String, softwareVersion: String
    ) throws {
        let frame = try #require(Self.decodeHex(hex), "\(client)")
        let (header, request) = try decodeRequest(ByteBuffer(bytes: frame))
        #expect(header.api == .apiVersions)
        #expect(header.clientId == clientId)
        #expect(request == .apiVersions(ApiVersionsRequest(clientSoftwareName: softwareName, clientSoftwareVersion: softwareVersion)))
        let reencoded = encodedRequest(request, version: header.apiVersion, correlationId: header.correlationId, clientId: clientId)
        #expect(Array(reencoded.readableBytesView) == frame)
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

    private static func decodeHex(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
