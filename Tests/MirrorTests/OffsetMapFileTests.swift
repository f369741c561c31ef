import Foundation
import Testing

@testable import Mirror

/// Runs `body` with a fresh directory under the system temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mirror-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

@Suite("Offset map: local cache file")
struct OffsetMapFileTests {
    let flow = FlowID(from: dcA, to: dcB)

    /// A map with several partitions, gaps, an accounted tail and a prune; returns the update batches.
    func batches() throws -> (map: OffsetMap, batches: [[OffsetMapUpdate]]) {
        var map = OffsetMap(flow: flow)
        var batches: [[OffsetMapUpdate]] = []
        for batch in 0..<6 {
            for offset in Int64(batch * 100)..<Int64(batch * 100 + 90) {
                try map.record(tp("orders", 0), sourceOffset: Offset(offset), targetOffset: Offset(offset - Int64(batch * 10)))
                try map.record(tp("dc-c.payments", 1), sourceOffset: Offset(offset * 2), targetOffset: Offset(offset))
            }
            map.advanceSourceEnd(tp("orders", 0), to: Offset(Int64(batch * 100 + 95)))
            if batch == 4 { map.prune(tp("orders", 0), belowSource: 150) }
            batches.append(map.takeUpdates())
        }
        return (map, batches)
    }

    func fileBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
    func writeBytes(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    @Test("CRC-32C matches the standard check value")
    func crcCheckValue() {
        #expect(CRC32C.checksum(bytes("123456789")) == 0xE306_9283)
    }

    @Test("a new file starts empty; appended batches load back as the same map")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/dc-a-dc-b.offsets"
            let (map, batches) = try batches()
            let created = try OffsetMapFile.open(path: path, flow: flow)
            #expect(created.map == OffsetMap(flow: flow))
            #expect(created.discardedTailBytes == 0)
            for batch in batches { try created.file.append(batch) }
            created.file.close()
            let loaded = try OffsetMapFile.open(path: path, flow: flow, sync: .never)
            #expect(loaded.map == map)
            // A removed range writes no line: the file holds the map itself.
            #expect(loaded.updateLines == batches.reduce(0) { $0 + $1.filter { if case .removed = $0.change { false } else { true } }.count })
            #expect(loaded.discardedTailBytes == 0)
            #expect(String(decoding: try fileBytes(path).prefix(60), as: UTF8.self).contains("switchback-offset-map 1 dc-a dc-b"))
        }
    }

    @Test("a torn tail is ignored on load and cut off before the next append")
    func tornTail() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/map"
            let (_, batches) = try batches()
            let opened = try OffsetMapFile.open(path: path, flow: flow)
            try opened.file.append(Array(batches[0...2].joined()))
            let intact = try fileBytes(path)
            try opened.file.append(batches[3])
            opened.file.close()
            let full = try fileBytes(path)
            var expected = OffsetMap(flow: flow)
            for update in batches[0...2].joined() { try expected.apply(update) }

            // Half of the next batch's first line, then zeros from a lost page.
            let torn = Array(full[..<(intact.count + 20)]) + [UInt8](repeating: 0, count: 100)
            try writeBytes(torn, path)
            let reloaded = try OffsetMapFile.open(path: path, flow: flow)
            #expect(reloaded.map == expected)
            #expect(reloaded.discardedTailBytes == 120)
            #expect(try fileBytes(path) == intact)
            // Appending after recovery gives a clean file again.
            try reloaded.file.append(batches[3])
            reloaded.file.close()
            #expect(try fileBytes(path) == full)
        }
    }

    @Test("every possible truncation point loads the complete lines before it")
    func everyTruncation() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/map"
            var map = OffsetMap(flow: flow)
            let opened = try OffsetMapFile.open(path: path, flow: flow, sync: .never)
            for offset in Int64(0)..<4 {
                try map.record(tp("t", 0), sourceOffset: Offset(offset * 3), targetOffset: Offset(offset))
                try opened.file.append(map.takeUpdates())
            }
            opened.file.close()
            let full = try fileBytes(path)
            let lineEnds = full.indices.filter { full[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }
            for length in (lineEnds[0])...full.count {
                try writeBytes(Array(full[..<length]), path)
                let completeLines = lineEnds.filter { $0 <= length }.count - 1
                let loaded = try OffsetMapFile.open(path: path, flow: flow, sync: .never)
                #expect(loaded.map[tp("t", 0)].ranges.count == completeLines, "cut at \(length)")
                #expect(loaded.discardedTailBytes == length - lineEnds[completeLines])
            }
        }
    }

    @Test("a damaged last line counts as torn; a damaged line before intact ones is corruption")
    func damagedLines() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/map"
            let (_, batches) = try batches()
            let opened = try OffsetMapFile.open(path: path, flow: flow)
            try opened.file.append(Array(batches.joined()))
            opened.file.close()
            let full = try fileBytes(path)
            let lineEnds = full.indices.filter { full[$0] == UInt8(ascii: "\n") }

            var lastDamaged = full
            lastDamaged[lineEnds[lineEnds.count - 1] - 2] ^= 0x01
            try writeBytes(lastDamaged, path)
            let loaded = try OffsetMapFile.open(path: path, flow: flow)
            #expect(loaded.discardedTailBytes == lineEnds[lineEnds.count - 1] - lineEnds[lineEnds.count - 2])
            loaded.file.close()

            var middleDamaged = full
            middleDamaged[lineEnds[2] - 2] ^= 0x01  // the third line
            try writeBytes(middleDamaged, path)
            do throws(MirrorError) {
                _ = try OffsetMapFile.open(path: path, flow: flow)
                Issue.record("corruption in the middle was accepted")
            } catch {
                #expect(error.code == .malformedOffsetMap)
                #expect(error.message.contains("line 3 is damaged"))
            }
        }
    }

    @Test("a file of another flow is refused; an empty file starts afresh")
    func wrongFlowAndEmpty() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/map"
            try OffsetMapFile.open(path: path, flow: FlowID(from: dcB, to: dcA)).file.close()
            do throws(MirrorError) {
                _ = try OffsetMapFile.open(path: path, flow: flow)
                Issue.record("opened another flow's file")
            } catch {
                #expect(error.code == .malformedOffsetMap)
                #expect(error.message.contains("belongs to flow dc-b→dc-a"))
            }
            try writeBytes([], path)
            let fresh = try OffsetMapFile.open(path: path, flow: flow)
            #expect(fresh.map == OffsetMap(flow: flow))
            #expect(try fileBytes(path) == OffsetMapFileFormat.headerLine(for: flow))
        }
    }

    @Test("compaction rewrites the file atomically to one line per range")
    func compaction() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/map"
            let (map, batches) = try batches()
            let opened = try OffsetMapFile.open(path: path, flow: flow)
            for batch in batches { try opened.file.append(batch) }
            let before = try fileBytes(path).count
            #expect(opened.file.linesSinceCompaction == batches.reduce(0) { $0 + $1.count })
            try opened.file.compact(to: map)
            #expect(opened.file.linesSinceCompaction == 0)
            #expect(try fileBytes(path) == OffsetMapFileFormat.snapshot(of: map))
            #expect(try fileBytes(path).count < before)
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
            // Appends continue on the compacted file.
            var continued = map
            try continued.record(tp("orders", 0), sourceOffset: 10_000, targetOffset: 10_000)
            try opened.file.append(continued.takeUpdates())
            opened.file.close()
            #expect(try OffsetMapFile.open(path: path, flow: flow).map == continued)
            #expect(throws: MirrorError.self) { try opened.file.append(continued.snapshot) }  // closed
        }
    }

    @Test("an unusable directory is a retriable storage error")
    func storageError() throws {
        do {
            _ = try OffsetMapFile.open(path: "/nonexistent-\(UUID().uuidString)/map", flow: flow)
            Issue.record("opened a file in a missing directory")
        } catch {
            #expect(error.code == .storage)
            #expect(error.isRetriable)
            #expect(error.message.contains("No such file or directory"))
        }
    }
}
