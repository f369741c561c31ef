/// The bounds of a partition's log.
public struct Watermarks: Sendable, Hashable, CustomStringConvertible {
    /// The offset of the oldest record still stored (the log start).
    public var low: Offset
    /// The offset the next record will get (the log end; the high watermark).
    public var high: Offset

    public init(low: Offset, high: Offset) {
        self.low = low
        self.high = high
    }

    /// How many records the partition holds.
    public var count: Int64 { Swift.max(0, high.rawValue &- low.rawValue) }

    public var description: String { "[\(low), \(high))" }
}
