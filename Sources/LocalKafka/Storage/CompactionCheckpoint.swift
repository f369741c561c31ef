/// What the periodic cleaner remembers of a partition's last cleaning, so an idle partition is
/// not scanned again until it has new records, a tombstone comes due, or its configs change.
struct CompactionCheckpoint: Equatable {
    var logEndOffset: Int64
    var segmentCount: Int
    var settings: TopicSettings
    /// When the oldest kept tombstone in a closed segment expires; nil when none is kept.
    var nextTombstoneExpiryMs: Int64?

    func isCurrent(for log: PartitionLog, nowMs: Int64) -> Bool {
        guard logEndOffset == log.logEndOffset, segmentCount == log.segments.count, settings == log.settings else { return false }
        guard let expiry = nextTombstoneExpiryMs else { return true }
        return nowMs <= expiry
    }
}
