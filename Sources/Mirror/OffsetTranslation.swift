/// The exact outcome of translating a committed offset from one cluster to the other.
///
/// Offsets are committed positions (the next record to read). Translation never guesses: every
/// case where the map cannot give the exact equivalent is reported as such.
public enum OffsetTranslation: Hashable, Sendable, CustomStringConvertible {
    /// The equivalent position on the other cluster: the first mirrored record at or after the
    /// input position (a position in a gap — compaction, transaction markers, skipped records —
    /// maps to the next copied record).
    case mapped(Offset)
    /// The input is at the end of what was mirrored (one past the last copied record, or inside
    /// a tail that was accounted for without copies): the group has seen everything mirrored.
    /// Commit this offset, one past the last mirrored record on the other side.
    case caughtUp(Offset)
    /// The input lies beyond what was mirrored: the group consumed records the other cluster does
    /// not have. `lastCopied` is the last copied offset on the input's side;
    /// `recordsAtRisk` counts the offsets between the mirrored end and the input (an upper bound
    /// on records: offsets taken by transaction markers count too).
    case beyondMirrored(lastCopied: Offset, recordsAtRisk: Int64)
    /// The input is before the first mapped offset (mirroring started later, or the map was
    /// pruned below it by retention): the equivalent position is unknown.
    case beforeMapped(firstMapped: Offset)
    /// Nothing of this partition has been mirrored (or everything mapped was pruned).
    case noMirroredRecords

    /// The offset to commit on the other cluster, or `nil` when translation did not give one.
    public var offsetToCommit: Offset? {
        switch self {
        case .mapped(let offset), .caughtUp(let offset): offset
        case .beyondMirrored, .beforeMapped, .noMirroredRecords: nil
        }
    }

    public var description: String {
        switch self {
        case .mapped(let offset):
            "maps to \(offset)"
        case .caughtUp(let offset):
            "caught up: maps to \(offset), the end of the mirrored data"
        case .beyondMirrored(let lastCopied, let atRisk):
            "beyond mirrored data (last copied \(lastCopied); data at risk: \(atRisk) record(s))"
        case .beforeMapped(let first):
            "before the first mapped offset \(first)"
        case .noMirroredRecords:
            "no mirrored records"
        }
    }
}
