/// A run of `count` consecutive source offsets copied to consecutive target offsets:
/// source `sourceStart + i` is target `targetStart + i` for `0 ≤ i < count`.
public struct MappedRange: Hashable, Sendable, CustomStringConvertible {
    public let sourceStart: Offset
    public let targetStart: Offset
    public let count: Int64

    /// A range, or `nil` when offsets are negative, `count` is not positive, or an end would
    /// overflow `Int64` (decoded map data is validated through here).
    public init?(sourceStart: Offset, targetStart: Offset, count: Int64) {
        guard sourceStart.rawValue >= 0, targetStart.rawValue >= 0, count > 0,
            !sourceStart.rawValue.addingReportingOverflow(count).overflow,
            !targetStart.rawValue.addingReportingOverflow(count).overflow
        else { return nil }
        self.sourceStart = sourceStart
        self.targetStart = targetStart
        self.count = count
    }

    /// Already validated by the caller.
    init(unchecked sourceStart: Int64, _ targetStart: Int64, _ count: Int64) {
        self.sourceStart = Offset(sourceStart)
        self.targetStart = Offset(targetStart)
        self.count = count
    }

    /// This range grown by `more` records; the caller has checked that the ends stay in range.
    func extended(by more: Int64) -> MappedRange {
        MappedRange(unchecked: sourceStart.rawValue, targetStart.rawValue, count + more)
    }

    /// One past the last source offset.
    public var sourceEnd: Offset { Offset(sourceStart.rawValue &+ count) }
    /// One past the last target offset.
    public var targetEnd: Offset { Offset(targetStart.rawValue &+ count) }

    /// `source→target` over `count` records, e.g. `100..<150 → 90..<140`.
    public var description: String {
        "\(sourceStart)..<\(sourceEnd) → \(targetStart)..<\(targetEnd)"
    }
}
