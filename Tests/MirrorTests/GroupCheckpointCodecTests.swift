import Foundation
import Testing

@testable import Mirror

@Suite("Group checkpoint records and file")
struct GroupCheckpointCodecTests {
    let flow = FlowID(from: dcA, to: dcB)
    let checkpoint = GroupCheckpoint(
        group: group("billing"), source: [tp("orders", 0): 120, tp("orders", 1): 7],
        target: [tp("dc-a.orders", 0): 118], readAt: Date(timeIntervalSince1970: 1_700_000_000.250))

    @Test("a record round-trips; the key is the group, so the compacted topic keeps one record per group")
    func recordRoundTrip() throws {
        let (key, value) = GroupCheckpointCodec.encode(checkpoint, flow: flow)
        #expect(key == bytes("billing"))
        let decoded = try GroupCheckpointCodec.decode(key: key, value: value)
        #expect(decoded.flow == flow)
        #expect(decoded.checkpoint == checkpoint)
        // Readable with kcat: offsets as a list of {topic, partition, offset}, time in ms.
        let text = String(decoding: value, as: UTF8.self)
        #expect(text.contains(#"{"offset":120,"partition":0,"topic":"orders"}"#))
        #expect(text.contains(#""readAtMs":1700000000250"#))
    }

    @Test("the file round-trips and belongs to one flow")
    func fileRoundTrip() throws {
        let other = GroupCheckpoint(group: group("audit"), source: [:], target: [:], readAt: Date(timeIntervalSince1970: 5))
        let bytes = GroupCheckpointCodec.encodeFile([checkpoint, other], flow: flow)
        #expect(try GroupCheckpointCodec.decodeFile(bytes, flow: flow, path: "/d/f") == [other, checkpoint])
        let error = try #require(throws: MirrorError.self) {
            try GroupCheckpointCodec.decodeFile(bytes, flow: FlowID(from: dcB, to: dcA), path: "/d/f")
        }
        #expect(error.code == .malformedCheckpoint)
        #expect(error.message.contains("belongs to flow dc-a→dc-b"))
    }

    @Test("hostile bytes are errors that say what is wrong, never a crash", arguments: [
        ("", "the top level"),
        ("not json", "the top level"),
        (#"{"version":2,"flow":{"source":"dc-a","target":"dc-b"},"checkpoint":{"group":"billing","source":[],"target":[],"readAtMs":1}}"#, "version 2"),
        (#"{"version":1,"flow":{"source":"dc-a","target":"dc-b"},"checkpoint":{"group":"other","source":[],"target":[],"readAtMs":1}}"#, "holds group other"),
        (#"{"version":1,"flow":{"source":"dc-a","target":"dc-b"},"checkpoint":{"group":"billing","source":[{"topic":"orders","partition":0,"offset":-4}],"target":[],"readAtMs":1}}"#, "negative offset"),
        (#"{"version":1,"flow":{"source":"dc-a","target":"dc-b"},"checkpoint":{"group":"billing","source":[{"topic":"orders","partition":0,"offset":1},{"topic":"orders","partition":0,"offset":2}],"target":[],"readAtMs":1}}"#, "listed twice"),
        (#"{"version":1,"flow":{"source":"dc-a","target":"dc-b"},"checkpoint":{"group":"billing","source":[{"topic":"bad topic","partition":0,"offset":1}],"target":[],"readAtMs":1}}"#, "checkpoint.source"),
        (#"{"version":1,"flow":{"source":"dc-a","target":"dc-b"},"checkpoint":{"group":"billing","target":[],"readAtMs":1}}"#, "missing checkpoint.source"),
    ])
    func hostile(value: String, says expected: String) throws {
        let error = try #require(throws: MirrorError.self) { try GroupCheckpointCodec.decode(key: bytes("billing"), value: bytes(value)) }
        #expect(error.code == .malformedCheckpoint)
        #expect(error.message.contains(expected), "\(error.message)")
    }

    @Test("age is measured against the given clock and never negative")
    func age() {
        #expect(checkpoint.age(at: checkpoint.readAt.addingTimeInterval(2.5)) == .milliseconds(2500))
        #expect(checkpoint.age(at: checkpoint.readAt.addingTimeInterval(-3)) == .zero)
    }
}
