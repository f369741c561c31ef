import NIOCore
import Testing
import TestSupport

@testable import KafkaWire

/// Random garbage and random corruptions of valid messages, over every API and version.
///
/// Decoding may succeed or throw; it must never trap, and what it decodes must be bounded by
/// the input: re-encoding a decoded message never takes more than 3× the input (the factor 3
/// covers invalid UTF-8, which decodes to 3-byte replacement characters).
@Suite struct ProtocolFuzzTests {
    private static let inputsPerVersion = 150

    @Test(arguments: allAdvertisedVersions)
    func corruptedAndRandomRequestsNeverTrap(api: ApiKey, version: Int16) {
        var random = SeededGenerator(seed: UInt64(UInt16(bitPattern: api.rawValue)) << 16 | UInt64(UInt16(bitPattern: version)))
        var header = ByteBuffer()
        RequestHeader(api: api, apiVersion: version, correlationId: 1).encode(into: &header)
        var valid = ByteBuffer()
        KafkaRequest.sample(api: api, version: version).encode(version: version, into: &valid)
        for round in 0..<Self.inputsPerVersion {
            let body = Self.input(round: round, valid: valid, random: &random)
            var input = header
            input.writeImmutableBuffer(body)
            if let (_, decoded) = try? decodeRequest(input) {
                var reencoded = ByteBuffer()
                decoded.encode(version: version, into: &reencoded)
                #expect(reencoded.readableBytes <= 3 * body.readableBytes + 16, "\(api) v\(version) round \(round)")
            }
        }
    }

    @Test(arguments: allAdvertisedVersions)
    func corruptedAndRandomResponsesNeverTrap(api: ApiKey, version: Int16) {
        var random = SeededGenerator(seed: 0xfeed_0000 | UInt64(UInt16(bitPattern: api.rawValue)) << 8 | UInt64(UInt16(bitPattern: version)))
        var valid = ByteBuffer()
        KafkaResponse.sample(api: api, version: version).encode(version: version, into: &valid)
        for round in 0..<Self.inputsPerVersion {
            let input = Self.input(round: round, valid: valid, random: &random)
            var body = input
            if let decoded = try? KafkaResponse.decode(api: api, version: version, body: &body) {
                var reencoded = ByteBuffer()
                decoded.encode(version: version, into: &reencoded)
                #expect(reencoded.readableBytes <= 3 * input.readableBytes + 16, "\(api) v\(version) round \(round)")
            }
        }
    }

    @Test func randomHeadersNeverTrap() {
        var random = SeededGenerator(seed: 2026)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0..<24, using: &random)
            var buffer = ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
            _ = try? RequestHeader.decode(from: &buffer)
        }
    }

    /// Every third input is pure garbage; the others corrupt a valid body in a few places,
    /// which reaches much deeper into the decoders than garbage does.
    private static func input(round: Int, valid: ByteBuffer, random: inout SeededGenerator) -> ByteBuffer {
        if round % 3 == 0 {
            let length = Int.random(in: 0..<96, using: &random)
            return ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
        var bytes = Array(valid.readableBytesView)
        guard !bytes.isEmpty else {
            return ByteBuffer(bytes: [UInt8.random(in: 0...255, using: &random)])
        }
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
            case 1: bytes[position] = [0x00, 0x7f, 0x80, 0xff].randomElement(using: &random) ?? 0
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            default: bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &random)))
            }
            if bytes.isEmpty {
                break
            }
        }
        return ByteBuffer(bytes: bytes)
    }
}
