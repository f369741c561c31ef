import KafkaWire
import NIOCore
import Testing
import TestSupport
@testable import KafkaCompression

/// The four codecs on their own: round trips, and input no codec may trust.
@Suite struct RecordCompressionTests {
    static let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

    /// Bytes that compress somewhat, like real records: words from a small vocabulary.
    static func sample(_ count: Int, seed: UInt64 = 7) -> ByteBuffer {
        var generator = SeededGenerator(seed: seed)
        let words = ["order", "payment", "customer", "42", "eu-west", "{\"id\":", "null", "true"]
        var buffer = ByteBuffer()
        while buffer.readableBytes < count {
            buffer.writeString(words[Int(generator.next() % UInt64(words.count))])
            buffer.writeInteger(UInt8(truncatingIfNeeded: generator.next()))
        }
        return buffer.getSlice(at: 0, length: count) ?? ByteBuffer()
    }

    @Test(arguments: codecs, [0, 1, 100, 300_000])
    func roundTrips(codec: CompressionCodec, size: Int) throws {
        let original = Self.sample(size)
        let compressed = try RecordCompression.compress(original, with: codec)
        #expect(try RecordCompression.decompress(compressed, with: codec, maxBytes: size) == original)
        if size >= 100 { #expect(compressed.readableBytes < original.readableBytes) }
    }

    @Test func noneLeavesBytesAsTheyAre() throws {
        let original = Self.sample(50)
        #expect(try RecordCompression.compress(original, with: .none) == original)
        #expect(try RecordCompression.decompress(original, with: .none, maxBytes: 0) == original)
    }

    @Test(arguments: codecs)
    func aBombIsRefusedAtTheLimit(codec: CompressionCodec) throws {
        // 16 MiB of zeros shrink to a few KiB; the limit is 1 MiB.
        let zeros = ByteBuffer(repeating: 0, count: 16 << 20)
        let bomb = try RecordCompression.compress(zeros, with: codec)
        #expect(bomb.readableBytes < 1 << 20)
        #expect {
            _ = try RecordCompression.decompress(bomb, with: codec, maxBytes: 1 << 20)
        } throws: { error in
            guard case .tooLarge(_, let size, let limit)? = error as? WireError else { return false }
            return limit == 1 << 20 && size > limit
        }
        // One byte under the real size is refused, the real size accepted.
        #expect(throws: WireError.self) { try RecordCompression.decompress(bomb, with: codec, maxBytes: (16 << 20) - 1) }
        #expect(try RecordCompression.decompress(bomb, with: codec, maxBytes: 16 << 20).readableBytes == 16 << 20)
    }

    @Test(arguments: codecs)
    func truncatedInputThrows(codec: CompressionCodec) throws {
        let compressed = try RecordCompression.compress(Self.sample(5_000), with: codec)
        for cut in [0, 1, 4, compressed.readableBytes / 2, compressed.readableBytes - 1] {
            let truncated = compressed.getSlice(at: 0, length: cut) ?? ByteBuffer()
            #expect(throws: WireError.self, "cut at \(cut) of \(compressed.readableBytes)") {
                try RecordCompression.decompress(truncated, with: codec, maxBytes: 1 << 20)
            }
        }
    }

    @Test(arguments: codecs)
    func garbageThrows(codec: CompressionCodec) {
        var generator = SeededGenerator(seed: 11)
        for length in [1, 7, 64, 4_096] {
            let garbage = ByteBuffer(bytes: (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) | 0x80 })
            #expect(throws: WireError.self, "\(length) random bytes") {
                try RecordCompression.decompress(garbage, with: codec, maxBytes: 1 << 20)
            }
        }
    }

    /// Corruption anywhere in a stream is either detected or yields bounded output; it never
    /// traps. Gzip carries a CRC-32 of its content, so there every change past the header's
    /// unchecked fields (modification time, flags, OS: bytes 4–9) is detected.
    @Test(arguments: codecs)
    func corruptionNeverTrapsAndStaysBounded(codec: CompressionCodec) throws {
        let original = Self.sample(20_000)
        let compressed = try RecordCompression.compress(original, with: codec)
        var generator = SeededGenerator(seed: UInt64(codec.rawValue))
        var detected = 0
        var undetectedGzipContent = 0
        let trials = 300
        for _ in 0..<trials {
            var corrupt = compressed
            let position = Int(generator.next() % UInt64(corrupt.readableBytes))
            let byte = corrupt.getInteger(at: position, as: UInt8.self) ?? 0
            corrupt.setInteger(byte ^ UInt8(truncatingIfNeeded: generator.next() | 1), at: position)
            do {
                let output = try RecordCompression.decompress(corrupt, with: codec, maxBytes: 30_000)
                #expect(output.readableBytes <= 30_000)
                if position >= 10 { undetectedGzipContent += 1 }
            } catch {
                detected += 1
            }
        }
        #expect(detected > 0)
        if codec == .gzip { #expect(undetectedGzipContent == 0) }
    }

    @Test func snappyReadsTheJavaClientsXerialFraming() throws {
        let original = Self.sample(100_000)
        let framed = try SnappyCodec.xerialFramed(original, blockSize: 32 * 1024)
        #expect(SnappyCodec.isXerialFramed(framed))
        #expect(!SnappyCodec.isXerialFramed(try RecordCompression.compress(original, with: .snappy)))
        #expect(try RecordCompression.decompress(framed, with: .snappy, maxBytes: 100_000) == original)
        // The limit holds across blocks, and a block cut short is refused.
        #expect(throws: WireError.self) { try RecordCompression.decompress(framed, with: .snappy, maxBytes: 99_999) }
        let cut = framed.getSlice(at: 0, length: framed.readableBytes - 10) ?? ByteBuffer()
        #expect(throws: WireError.self) { try RecordCompression.decompress(cut, with: .snappy, maxBytes: 1 << 20) }
        var negative = framed
        negative.setInteger(Int32(-5), at: SnappyCodec.xerialHeaderSize)
        #expect(throws: WireError.self) { try RecordCompression.decompress(negative, with: .snappy, maxBytes: 1 << 20) }
    }

    @Test func gzipReadsConcatenatedMembers() throws {
        let first = Self.sample(3_000, seed: 1)
        let second = Self.sample(2_000, seed: 2)
        var both = try RecordCompression.compress(first, with: .gzip)
        var tail = try RecordCompression.compress(second, with: .gzip)
        both.writeBuffer(&tail)
        var expected = first
        var secondCopy = second
        expected.writeBuffer(&secondCopy)
        #expect(try RecordCompression.decompress(both, with: .gzip, maxBytes: 5_000) == expected)
    }
}
