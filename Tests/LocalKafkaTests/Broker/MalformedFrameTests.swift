import KafkaWire
import NIOCore
import Testing

#if os(Linux)
// Linux only: raw sockets through Glibc.

/// Each kind of malformed request closes its own connection, is logged with the reason, and
/// leaves every other connection served.
@Suite(.timeLimit(.minutes(1)))
struct MalformedFrameTests {
    static let maxRequestBytes = 65_536

    /// A frame claiming `size` bytes, followed by `body`.
    static func frame(size: Int32, _ body: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: size.bigEndian) { Array($0) } + body
    }

    static func metadataFrame() -> [UInt8] {
        let header = RequestHeader(api: .metadata, apiVersion: 1, correlationId: 9, clientId: "malformed-test")
        let request = KafkaRequest.metadata(MetadataRequest(topics: [.init(name: "some-topic")]))
        return Array(RequestFrame.encode(header: header, request: request).readableBytesView)
    }

    /// (name, bytes, text the logged reason must contain)
    static let cases: [(name: String, bytes: [UInt8], reason: String)] = {
        let metadata = metadataFrame()
        let body = Array(metadata.dropFirst(4))
        var hugeArray = body
        // The topics array count follows the header: apiKey, apiVersion, correlationId, clientId.
        let countAt = 2 + 2 + 4 + 2 + "malformed-test".utf8.count
        hugeArray.replaceSubrange(countAt..<(countAt + 4), with: [0x7F, 0xFF, 0xFF, 0xFF])
        var unknownAPI = body
        unknownAPI.replaceSubrange(0..<2, with: [0x7F, 0x00])
        var unsupportedVersion = body
        unsupportedVersion.replaceSubrange(2..<4, with: [0x00, 0x63])
        let cut = Array(body.prefix(body.count - 3))
        return [
            ("negative size", frame(size: -7, []), "negative size -7"),
            ("oversized frame", frame(size: Int32(maxRequestBytes + 1), []), "exceeds the limit of \(maxRequestBytes) bytes"),
            ("empty frame", frame(size: 0, []), "RequestHeader"),
            ("truncated body", frame(size: Int32(cut.count), cut), "input ended inside"),
            ("huge array count", frame(size: Int32(hugeArray.count), hugeArray), "MetadataRequest"),
            ("unknown API key", frame(size: Int32(unknownAPI.count), unknownAPI), "unsupported API key 32512"),
            ("unsupported version", frame(size: Int32(unsupportedVersion.count), unsupportedVersion), "unsupported API key 3 version 99"),
        ]
    }()

    @Test(arguments: cases.indices)
    func malformedRequestClosesOnlyItsConnectionAndIsLogged(caseIndex: Int) async throws {
        let (name, bytes, reason) = Self.cases[caseIndex]
        try await RecordedBroker.with(configure: { $0.maxRequestBytes = Self.maxRequestBytes }) { broker in
            let bystander = try RawConnection(broker.bootstrapServers)
            #expect(await ControlEndpointTests.answersApiVersions(bystander, correlationID: 1))

            let hostile = try RawConnection(broker.bootstrapServers)
            hostile.send(bytes)
            #expect(await hostile.waitForClose(timeout: .seconds(10)), "\(name): the broker closes the connection")

            let logged = try await Self.waitForWarning(in: broker.log)
            #expect(logged.count == 1, "\(name): one warning per closed connection")
            #expect(logged.first?.metadata["reason"]?.contains(reason) == true, "\(name): logged \(logged.first?.metadata ?? [:])")

            #expect(await ControlEndpointTests.answersApiVersions(bystander, correlationID: 2), "\(name): other connections are served")
            #expect(broker.unexpectedStop == nil)
        }
    }

    /// The "closed Kafka connection" warnings, once at least one is there (the log line may
    /// follow the close by a moment); polls until a deadline.
    static func waitForWarning(in log: LogRecorder, limit: Duration = .seconds(10)) async throws -> [LogRecorder.Entry] {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let warnings = log.entries("closed Kafka connection")
            if !warnings.isEmpty { return warnings }
            try await Task.sleep(for: .milliseconds(10))
        }
        return []
    }
}
#endif
