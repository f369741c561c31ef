import Testing
import TestSupport

@testable import Mirror

@Suite("Offset map: random streams against a brute-force reference")
struct OffsetMapPropertyTests {
    @Test("translation equals the reference at every position", arguments: UInt64(1)...UInt64(40))
    func matchesReference(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var map = PartitionOffsetMap()
        var pairs: [(source: Int64, target: Int64)] = []
        var source = Int64.random(in: 0...50, using: &generator)
        var target = Int64.random(in: 0...50, using: &generator)
        let gapChance = Int.random(in: 0...40, using: &generator)
        for _ in 0..<Int.random(in: 0...400, using: &generator) {
            if Int.random(in: 0..<100, using: &generator) < gapChance { source += Int64.random(in: 1...20, using: &generator) }
            if Int.random(in: 0..<100, using: &generator) < gapChance / 2 { target += Int64.random(in: 1...20, using: &generator) }
            try map.record(sourceOffset: Offset(source), targetOffset: Offset(target))
            pairs.append((source, target))
            source += 1
            target += 1
        }
        var accountedEnd = source
        if Bool.random(using: &generator) {
            accountedEnd += Int64.random(in: 0...10, using: &generator)
            map.advanceSourceEnd(to: Offset(accountedEnd))
        }
        let reference = BruteForceMap(pairs: pairs, accountedEnd: accountedEnd)
        // Every source and target position from before the first to well beyond the last.
        for c in Int64(-2)...(source + 25) {
            #expect(map.translate(sourceOffset: Offset(c)) == reference.toTarget(c), "seed \(seed) source \(c)")
        }
        for c in Int64(-2)...(target + 25) {
            #expect(map.translate(targetOffset: Offset(c)) == reference.toSource(c), "seed \(seed) target \(c)")
        }
        // Ranges are maximal: no two neighbours could be merged.
        for (left, right) in zip(map.ranges, map.ranges.dropFirst()) {
            #expect(!(left.sourceEnd == right.sourceStart && left.targetEnd == right.targetStart))
        }
        #expect(map.ranges.reduce(0) { $0 + $1.count } == Int64(pairs.count))
    }
}
