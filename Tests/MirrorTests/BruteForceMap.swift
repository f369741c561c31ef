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

