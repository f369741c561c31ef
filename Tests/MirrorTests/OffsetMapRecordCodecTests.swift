import Testing
import TestSupport

@testable import Mirror

@Suite("Offset map: internal-topic records")
struct OffsetMapRecordCodecTests {
    let flow = FlowID(from: dcA, to: dcB)

    @Test("updates round-trip through key and value")
    func roundTrip() throws {
        let updates = [
            OffsetMapUpdate(flow: flow, partition: tp("orders", 3), change: .mapped(MappedRange(sourceStart: 1_200, targetStart: 7, count: 1_000_000)!)),
            OffsetMapUpdate(flow: flow, partition: tp("dc-c.payments.eu", 0), change: .sourceEnd(Offset(Int64.max))),
            OffsetMapUpdate(flow: flow, partition: tp("orders", 2_147_483_647), change: .pruned(belowSource: 0)),
        ]
        for update in updates {
            let (key, value) = OffsetMapRecordCodec.encode(update)
            #expect(try OffsetMapRecordCodec.decode(key: key, value: try #require(value)) == update)
        }
        let (key, encoded) = OffsetMapRecordCodec.encode(updates[0])
        let value = try #require(encoded)
        #expect(String(decoding: key, as: UTF8.self) == "dc-a/dc-b/orders/3/m/1200")
        #expect(value.count == 26)
        #expect(value.prefix(2) == [1, 1])
        #expect(String(decoding: OffsetMapRecordCodec.encode(updates[1]).key, as: UTF8.self) == "dc-a/dc-b/dc-c.payments.eu/0/e")
        #expect(OffsetMapRecordCodec.encode(updates[1]).value?.count == 10)
    }

    @Test("a removed range is a tombstone for the key its range was stored under")
    func removedIsATombstone() {
        let mapped = OffsetMapRecordCodec.encode(OffsetMapUpdate(flow: flow, partition: tp("orders", 3), change: .mapped(MappedRange(sourceStart: 1_200, targetStart: 7, count: 5)!)))
        let removed = OffsetMapRecordCodec.encode(OffsetMapUpdate(flow: flow, partition: tp("orders", 3), change: .removed(sourceStart: 1_200)))
        #expect(removed.key == mapped.key)
        #expect(removed.value == nil)
    }

    @Test("every truncation of a valid value is rejected, never a crash")
    func truncations() throws {
        let update = OffsetMapUpdate(flow: flow, partition: tp("orders", 3), change: .mapped(MappedRange(sourceStart: 5, targetStart: 7, count: 9)!))
        let (key, encoded) = OffsetMapRecordCodec.encode(update)
        let value = try #require(encoded)
        for length in 0..<value.count {
            #expect(throws: MirrorError.self) { try OffsetMapRecordCodec.decode(key: key, value: Array(value.prefix(length))) }
        }
        #expect(throws: MirrorError.self) { try OffsetMapRecordCodec.decode(key: key, value: value + [0]) }
    }

    @Test("malformed keys and values are rejected with a malformed-offset-map error")
    func malformed() throws {
        let encoded = OffsetMapRecordCodec.encode(OffsetMapUpdate(flow: flow, partition: tp("orders", 3), change: .mapped(MappedRange(sourceStart: 5, targetStart: 7, count: 9)!)))
        let good = (key: encoded.key, value: try #require(encoded.value))
        func int64(_ value: Int64) -> [UInt8] {
            var bytes: [UInt8] = []
            appendInt64(value, to: &bytes)
            return bytes
        }
        let cases: [([UInt8], [UInt8])] = [
            ([0xFF, 0xFE], good.value),
            (bytes("dc-a/dc-b/orders/3/m"), good.value),  // missing start
            (bytes("dc-a/dc-b/orders/3/m/6"), good.value),  // start disagrees with value
            (bytes("dc-a/dc-b/orders/-3/m/5"), good.value),
            (bytes("dc-a/DC-B/orders/3/m/5"), good.value),
            (bytes("dc-a/dc-b/ord ers/3/m/5"), good.value),
            (bytes("dc-a/dc-b/orders/3/e"), good.value),  // kind mismatch
            (good.key, [2] + Array(good.value.dropFirst())),  // unknown version
            (good.key, [1, 1] + int64(5) + int64(7) + int64(0)),  // empty range
            (good.key, [1, 1] + int64(5) + int64(7) + int64(-1)),
            (bytes("dc-a/dc-b/orders/3/m/-5"), [1, 1] + int64(-5) + int64(7) + int64(1)),
            (bytes("dc-a/dc-b/orders/3/m/5"), [1, 1] + int64(5) + int64(Int64.max) + int64(2)),  // end overflows
            (bytes("dc-a/dc-b/orders/3/e"), [1, 2] + int64(-1)),
            (bytes("dc-a/dc-b/orders/3/x"), [1, 9] + int64(1)),
            ([], []),
        ]
        for (key, value) in cases {
            do {
                _ = try OffsetMapRecordCodec.decode(key: key, value: value)
                Issue.record("accepted key \(String(decoding: key, as: UTF8.self))")
            } catch {
                #expect(error.code == .malformedOffsetMap)
            }
        }
    }

    @Test("random bytes never crash the decoder", arguments: UInt64(1)...UInt64(5))
    func fuzz(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let good = OffsetMapRecordCodec.encode(OffsetMapUpdate(flow: flow, partition: tp("orders", 3), change: .sourceEnd(99)))
        for _ in 0..<2_000 {
            var key = good.key
            var value = good.value ?? []
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                if Bool.random(using: &generator), !key.isEmpty {
                    key[Int.random(in: 0..<key.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                } else if !value.isEmpty {
                    value[Int.random(in: 0..<value.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            _ = try? OffsetMapRecordCodec.decode(key: key, value: value)
        }
    }
}
