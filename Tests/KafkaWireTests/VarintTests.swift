import NIOCore
import Testing
@testable import KafkaWire

@Suite struct VarintTests {
    @Test(arguments: [Int64(0), 1, -1, 63, -64, 64, 300, -300, Int64(Int32.max), Int64(Int32.min), .max, .min])
    func varlongRoundTrips(_ value: Int64) throws {
        var buffer = ByteBuffer()
        buffer.writeVarlong(value)
        #expect(try buffer.readVarlong() == value)
        #expect(buffer.readableBytes == 0)
    }

    @Test func zigZagUsesTheKafkaLayout() {
        // Values from the Kafka protocol guide: 0→00, -1→01, 1→02, -2→03, 300→d8 04.
        let cases: [(Int32, [UInt8])] = [(0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (300, [0xd8, 0x04])]
        for (value, bytes) in cases {
            var buffer = ByteBuffer()
            buffer.writeVarint(value)
            #expect(Array(buffer.readableBytesView) == bytes, "encoding of \(value)")
        }
    }

    @Test func truncatedVarintThrowsAndConsumesNothing() {
        var buffer = ByteBuffer(bytes: [0x80, 0x80])
        #expect(throws: WireError.truncated(field: "length")) { try buffer.readUnsignedVarint(field: "length") }
        #expect(buffer.readableBytes == 2)
    }

    @Test func overlongVarintIsMalformed() {
        var buffer = ByteBuffer(bytes: [UInt8](repeating: 0xff, count: 6) + [0x01])
        #expect(throws: WireError.self) { try buffer.readVarint() }
    }

    @Test func varintOutside32BitsIsMalformed() {
        var buffer = ByteBuffer()
        buffer.writeVarlong(Int64(Int32.max) + 1)
        #expect(throws: WireError.self) { try buffer.readVarint() }
    }
}
