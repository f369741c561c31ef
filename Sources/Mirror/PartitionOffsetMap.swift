/// The exact offset map of one source partition: sorted, non-overlapping ``MappedRange``s.
///
/// Built from delivery reports in order. A contiguous stream stays one range however long;
/// a gap in source offsets (compaction, transaction markers, records not copied) or in target
/// offsets (another writer) starts a new range. Both source and target offsets strictly
/// increase from range to range, so lookups in either direction are binary searches.
///
/// Besides the ranges, the map keeps the *accounted end*: one past the highest source offset
/// the flow has dealt with, copied or deliberately not copied (``advanceSourceEnd(to:)``).
/// It lets a group positioned after a tail of transaction markers or loop-skipped records count
/// as caught up instead of "beyond mirrored".
public struct PartitionOffsetMap: Equatable, Sendable {
    /// The ranges, ascending in both source and target offsets.
    public private(set) var ranges: [MappedRange] = []
    /// One past the highest source offset copied or declared not to be copied.
    public private(set) var accountedEnd: Offset = 0
    /// Source offsets below this were pruned (retention); updates below it are ignored.
    public private(set) var prunedBelow: Offset = 0

    // Changes since the last `takeChanges()`, coalesced; not part of the map's value.
    private var unpublishedRanges: [MappedRange] = []
    private var unpublishedEnd = false
    private var unpublishedPrune = false
    /// Starts of ranges removed or cut by pruning since the last `takeChanges()`.
    private var unpublishedRemovals: [Offset] = []

    public init() {}

    public static func == (lhs: PartitionOffsetMap, rhs: PartitionOffsetMap) -> Bool {
        lhs.ranges == rhs.ranges && lhs.accountedEnd == rhs.accountedEnd && lhs.prunedBelow == rhs.prunedBelow
    }

    /// Whether ``record(sourceOffset:targetOffset:)`` added something new.
    public enum RecordOutcome: Hashable, Sendable {
        /// The mapping was new and is now in the map.
        case recorded
        /// The map already held exactly this mapping (a replay after restart); nothing changed.
        case alreadyRecorded
    }

    // MARK: Building

    /// Records one delivery report: the record at `sourceOffset` was written at `targetOffset`.
    ///
    /// - Important: Call in source-offset order. Replaying a mapping the map already holds is
    ///   harmless (``RecordOutcome/alreadyRecorded``); anything else that goes backwards throws.
    /// - Throws: ``MirrorError/Code/offsetMapConflict`` for negative offsets, a mapping that
    ///   contradicts the map, or offsets that go backwards.
    @discardableResult
    public mutating func record(sourceOffset: Offset, targetOffset: Offset) throws(MirrorError) -> RecordOutcome {
        let source = sourceOffset.rawValue
        let target = targetOffset.rawValue
        // Fast path: the next record of a contiguous stream extends the last range in place.
        if let lastIndex = ranges.indices.last {
            let last = ranges[lastIndex]
            if source == last.sourceEnd.rawValue, target == last.targetEnd.rawValue,
                source >= accountedEnd.rawValue, source < Int64.max, target < Int64.max
            {
                ranges[lastIndex] = last.extended(by: 1)
                accountedEnd = Offset(source + 1)
                publish(source: source, target: target, count: 1)
                return .recorded
            }
        }
        guard let range = MappedRange(sourceStart: sourceOffset, targetStart: targetOffset, count: 1) else {
            throw MirrorError(
                .offsetMapConflict,
                "delivery report source \(sourceOffset) → target \(targetOffset) has an offset out of range")
        }
        return try insert(range, publish: true) ? .recorded : .alreadyRecorded
    }

    /// Adds a range from a stored update; parts already held identically or pruned are ignored.
    /// - Throws: ``MirrorError/Code/offsetMapConflict`` when the range contradicts the map.
    public mutating func apply(_ range: MappedRange) throws(MirrorError) {
        try insert(range, publish: false)
    }

    /// Declares that every source offset below `end` has been dealt with: copied (with its
    /// delivery reported) or deliberately not copied. Lower values are ignored.
    ///
    /// - Important: Call only once every delivery below `end` has been recorded; a later
    ///   record below `end` is a conflict.
    public mutating func advanceSourceEnd(to end: Offset) {
        guard end > accountedEnd else { return }
        accountedEnd = end
        unpublishedEnd = true
    }

    /// Forgets the mapping of source offsets below `offset` (the partition's log start offset
    /// after retention): translating a position below it then reports ``OffsetTranslation/beforeMapped(firstMapped:)``.
    public mutating func prune(belowSource offset: Offset) {
        guard offset > prunedBelow else { return }
        let cut = offset.rawValue
        let keepFrom = firstIndex { $0.sourceEnd.rawValue > cut }
        unpublishedRemovals += ranges.prefix(keepFrom).map(\.sourceStart)
        ranges.removeFirst(keepFrom)
        if let first = ranges.first, first.sourceStart.rawValue < cut {
            let dropped = cut - first.sourceStart.rawValue
            ranges[0] = MappedRange(unchecked: cut, first.targetStart.rawValue + dropped, first.count - dropped)
            // Stored under its old start; stored again under the new one.
            unpublishedRemovals.append(first.sourceStart)
            unpublishedRanges.insert(ranges[0], at: 0)
        }
        prunedBelow = offset
        unpublishedPrune = true
    }

    /// Forgets the mapping of target offsets below `offset` (the target partition's log start
    /// offset after retention), pruning the source side at the corresponding position.
    public mutating func prune(belowTarget offset: Offset) {
        let cut = offset.rawValue
        let index = firstIndex { $0.targetEnd.rawValue > cut }
        guard index < ranges.count else {
            if let last = ranges.last { prune(belowSource: last.sourceEnd) }
            return
        }
        let range = ranges[index]
        let sourceCut = cut <= range.targetStart.rawValue
            ? range.sourceStart.rawValue
            : range.sourceStart.rawValue + (cut - range.targetStart.rawValue)
        prune(belowSource: Offset(sourceCut))
    }

    /// The changes since the last call, coalesced, in an order that rebuilds the same map when
    /// applied with ``apply(_:)``.
    ///
    /// A new mapping is published as the whole range that holds it now, under that range's
    /// start: a contiguous stream is one key however often it is stored, so the compacted
    /// offset-map topic keeps one record per range, not one per store. Ranges pruned away get
    /// a ``OffsetMapUpdate/Change/removed(sourceStart:)`` (a tombstone for their key).
    public mutating func takeChanges() -> [OffsetMapUpdate.Change] {
        var whole: [MappedRange] = []
        for delta in unpublishedRanges {
            let index = firstIndex { $0.sourceStart > delta.sourceStart } - 1
            // A delta pruned away since it was recorded has no range left to publish.
            guard index >= 0, delta.sourceStart < ranges[index].sourceEnd else { continue }
            if whole.last != ranges[index] { whole.append(ranges[index]) }
        }
        let published = Set(whole.map(\.sourceStart))
        var changes = unpublishedRemovals.filter { !published.contains($0) }.map { OffsetMapUpdate.Change.removed(sourceStart: $0) }
        changes += whole.map { OffsetMapUpdate.Change.mapped($0) }
        if unpublishedEnd { changes.append(.sourceEnd(accountedEnd)) }
        if unpublishedPrune { changes.append(.pruned(belowSource: prunedBelow)) }
        unpublishedRanges.removeAll(keepingCapacity: true)
        unpublishedRemovals.removeAll(keepingCapacity: true)
        unpublishedEnd = false
        unpublishedPrune = false
        return changes
    }

    /// Changes that rebuild this whole map from nothing (for compaction and republishing).
    public var snapshot: [OffsetMapUpdate.Change] {
        var changes: [OffsetMapUpdate.Change] = []
        if prunedBelow > 0 { changes.append(.pruned(belowSource: prunedBelow)) }
        changes += ranges.map { .mapped($0) }
        if accountedEnd > (ranges.last?.sourceEnd ?? 0) { changes.append(.sourceEnd(accountedEnd)) }
        return changes
    }

    /// Applies one stored change.
    public mutating func apply(_ change: OffsetMapUpdate.Change) throws(MirrorError) {
        switch change {
        case .mapped(let range):
            try insert(range, publish: false)
        case .sourceEnd(let end):
            if end > accountedEnd { accountedEnd = end }
        case .pruned(let below):
            let pending = (unpublishedPrune, unpublishedRemovals, unpublishedRanges)
            prune(belowSource: below)
            (unpublishedPrune, unpublishedRemovals, unpublishedRanges) = pending
        case .removed:
            break
        }
    }

    // MARK: Translation

    /// Translates a committed source offset to the target (failover direction).
    public func translate(sourceOffset committed: Offset) -> OffsetTranslation {
        guard let first = ranges.first, let last = ranges.last else { return .noMirroredRecords }
        let c = committed.rawValue
        if c < first.sourceStart.rawValue { return .beforeMapped(firstMapped: first.sourceStart) }
        let index = firstIndex { $0.sourceStart.rawValue > c } - 1  // ≥ 0: c ≥ first.sourceStart
        let range = ranges[index]
        if c < range.sourceEnd.rawValue {
            return .mapped(Offset(range.targetStart.rawValue + (c - range.sourceStart.rawValue)))
        }
        if index + 1 < ranges.count { return .mapped(ranges[index + 1].targetStart) }
        if c <= accountedEnd.rawValue { return .caughtUp(last.targetEnd) }
        return .beyondMirrored(lastCopied: Offset(last.sourceEnd.rawValue - 1), recordsAtRisk: c - accountedEnd.rawValue)
    }

    /// Translates a committed target offset back to the source (failback direction).
    ///
    /// Exact when the flow is the only writer of the target partition (prefix policy, or
    /// identity in active–standby). With identity in active–active, local records written to the
    /// target partition after the last copy are not this map's to place: a position past them
    /// is reported as ``OffsetTranslation/beyondMirrored(lastCopied:recordsAtRisk:)``.
    public func translate(targetOffset committed: Offset) -> OffsetTranslation {
        guard let first = ranges.first, let last = ranges.last else { return .noMirroredRecords }
        let c = committed.rawValue
        if c < first.targetStart.rawValue { return .beforeMapped(firstMapped: first.targetStart) }
        let index = firstIndex { $0.targetStart.rawValue > c } - 1
        let range = ranges[index]
        if c < range.targetEnd.rawValue {
            return .mapped(Offset(range.sourceStart.rawValue + (c - range.targetStart.rawValue)))
        }
        if index + 1 < ranges.count { return .mapped(ranges[index + 1].sourceStart) }
        if c == last.targetEnd.rawValue { return .caughtUp(accountedEnd) }
        return .beyondMirrored(lastCopied: Offset(last.targetEnd.rawValue - 1), recordsAtRisk: c - last.targetEnd.rawValue)
    }

    // MARK: Internals

    /// Inserts `range`, checking overlap with what is held; returns whether anything changed.
    @discardableResult
    private mutating func insert(_ range: MappedRange, publish shouldPublish: Bool) throws(MirrorError) -> Bool {
        var source = range.sourceStart.rawValue
        var target = range.targetStart.rawValue
        var count = range.count
        if source < prunedBelow.rawValue {
            let skipped = min(count, prunedBelow.rawValue - source)
            source += skipped
            target += skipped
            count -= skipped
            if count == 0 { return false }
        }
        // The part overlapping what is already mapped must agree with it exactly.
        if let last = ranges.last {
            while count > 0, source < last.sourceEnd.rawValue {
                let index = firstIndex { $0.sourceStart.rawValue > source } - 1
                guard index >= 0, source < ranges[index].sourceEnd.rawValue else {
                    throw conflict("source offset \(source) is not a mapped offset (before the first range or in a gap), "
                        + "but an update maps it to target \(target)")
                }
                let held = ranges[index]
                let heldTarget = held.targetStart.rawValue + (source - held.sourceStart.rawValue)
                guard heldTarget == target else {
                    throw conflict(
                        "source offset \(source) is mapped to target \(heldTarget), but an update maps it to \(target)")
                }
                let covered = min(count, held.sourceEnd.rawValue - source)
                source += covered
                target += covered
                count -= covered
            }
            if count == 0 { return false }
        }
        guard source >= accountedEnd.rawValue else {
            throw conflict("source offset \(source) was already accounted for as not copied "
                + "(accounted end \(accountedEnd)); deliveries must be recorded before the end is advanced")
        }
        if let lastIndex = ranges.indices.last {
            let last = ranges[lastIndex]
            guard target >= last.targetEnd.rawValue else {
                throw conflict("target offset \(target) for source \(source) is below the end of the last mapped "
                    + "target range \(last); target offsets must increase")
            }
            if source == last.sourceEnd.rawValue, target == last.targetEnd.rawValue {
                ranges[lastIndex] = last.extended(by: count)
            } else {
                ranges.append(MappedRange(unchecked: source, target, count))
            }
        } else {
            ranges.append(MappedRange(unchecked: source, target, count))
        }
        accountedEnd = Offset(max(accountedEnd.rawValue, source + count))
        if shouldPublish { publish(source: source, target: target, count: count) }
        return true
    }

    private mutating func publish(source: Int64, target: Int64, count: Int64) {
        if let lastIndex = unpublishedRanges.indices.last {
            let last = unpublishedRanges[lastIndex]
            if last.sourceEnd.rawValue == source, last.targetEnd.rawValue == target {
                unpublishedRanges[lastIndex] = last.extended(by: count)
                return
            }
        }
        unpublishedRanges.append(MappedRange(unchecked: source, target, count))
    }

    /// The first index whose range satisfies `isAfter` (which must be monotonic), or `ranges.count`.
    private func firstIndex(where isAfter: (MappedRange) -> Bool) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = low + (high - low) / 2
            if isAfter(ranges[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    private func conflict(_ message: String) -> MirrorError {
        MirrorError(.offsetMapConflict, message + "; the stored map and the target log disagree: rebuild the map "
            + "from the target partition's switchback-source headers")
    }
}
