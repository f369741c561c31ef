@testable import Mirror

/// The obvious, slow reference for translation: a list of (source, target) pairs searched linearly.
struct BruteForceMap {
    var pairs: [(source: Int64, target: Int64)]
    var accountedEnd: Int64

    func toTarget(_ c: Int64) -> OffsetTranslation {
        guard let first = pairs.first, let last = pairs.last else { return .noMirroredRecords }
        if c < first.source { return .beforeMapped(firstMapped: Offset(first.source)) }
        if let next = pairs.first(where: { $0.source >= c }) { return .mapped(Offset(next.target)) }
        if c <= max(accountedEnd, last.source + 1) { return .caughtUp(Offset(last.target + 1)) }
        return .beyondMirrored(lastCopied: Offset(last.source), recordsAtRisk: c - max(accountedEnd, last.source + 1))
    }

    func toSource(_ c: Int64) -> OffsetTranslation {
        guard let first = pairs.first, let last = pairs.last else { return .noMirroredRecords }
        if c < first.target { return .beforeMapped(firstMapped: Offset(first.target)) }
        if let next = pairs.first(where: { $0.target >= c }) { return .mapped(Offset(next.source)) }
        if c == last.target + 1 { return .caughtUp(Offset(max(accountedEnd, last.source + 1))) }
        return .beyondMirrored(lastCopied: Offset(last.target), recordsAtRisk: c - last.target - 1)
    }
}

/// A deterministic random number generator (SplitMix64), so "random" tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
