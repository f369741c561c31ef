/// The exact offset map of one flow: a ``PartitionOffsetMap`` per source topic-partition.
///
/// The flow records delivery reports into it, periodically takes the coalesced updates and
/// stores them (internal topic, then the local cache file); translation reads it.
/// Partitions are keyed by their *source* topic-partition; the target partition has the same
/// number, and the target topic follows from the ``TopicNaming``.
///
/// Unlike MirrorMaker 2's offset syncs (one sync per `offset.lag.max` records, 64 kept per
/// partition, stored on the source cluster, translated conservatively and never back), every
/// delivery is in the map: a contiguous stream costs one range however long it is, so the map
/// stays small (10 million records with a transaction marker every 1000 are 10 000 ranges,
/// ~400 KB on disk) while translation is exact in both directions.
public struct OffsetMap: Equatable, Sendable {
    /// The flow this map belongs to.
    public let flow: FlowID
    /// The map of each source partition seen so far.
    public private(set) var partitions: [TopicPartition: PartitionOffsetMap] = [:]
    private var changed: Set<TopicPartition> = []

    public init(flow: FlowID) {
        self.flow = flow
    }

    public static func == (lhs: OffsetMap, rhs: OffsetMap) -> Bool {
        lhs.flow == rhs.flow && lhs.partitions.filter { !$0.value.isEmpty } == rhs.partitions.filter { !$0.value.isEmpty }
    }

    /// The map of one source partition (empty when nothing is known).
    public subscript(partition: TopicPartition) -> PartitionOffsetMap {
        partitions[partition] ?? PartitionOffsetMap()
    }

    /// Total number of ranges across partitions.
    public var rangeCount: Int { partitions.values.reduce(0) { $0 + $1.ranges.count } }

    /// Records a delivery report for a source partition; see ``PartitionOffsetMap/record(sourceOffset:targetOffset:)``.
    @discardableResult
    public mutating func record(_ partition: TopicPartition, sourceOffset: Offset, targetOffset: Offset)
        throws(MirrorError) -> PartitionOffsetMap.RecordOutcome
    {
        let outcome: PartitionOffsetMap.RecordOutcome
        do {
            outcome = try partitions[partition, default: PartitionOffsetMap()]
                .record(sourceOffset: sourceOffset, targetOffset: targetOffset)
        } catch {
            throw MirrorError(error.code, "\(flow) \(partition): \(error.message)", isRetriable: error.isRetriable)
        }
        if outcome == .recorded { changed.insert(partition) }
        return outcome
    }

    /// See ``PartitionOffsetMap/advanceSourceEnd(to:)``.
    public mutating func advanceSourceEnd(_ partition: TopicPartition, to end: Offset) {
        partitions[partition, default: PartitionOffsetMap()].advanceSourceEnd(to: end)
        changed.insert(partition)
    }

    /// See ``PartitionOffsetMap/prune(belowSource:)``.
    public mutating func prune(_ partition: TopicPartition, belowSource offset: Offset) {
        guard partitions[partition] != nil else { return }
        partitions[partition]?.prune(belowSource: offset)
        changed.insert(partition)
    }

    /// See ``PartitionOffsetMap/prune(belowTarget:)``.
    public mutating func prune(_ partition: TopicPartition, belowTarget offset: Offset) {
        guard partitions[partition] != nil else { return }
        partitions[partition]?.prune(belowTarget: offset)
        changed.insert(partition)
    }

    /// Applies a stored update (from the cache file or the internal topic).
    /// - Throws: ``MirrorError/Code/offsetMapConflict`` when the update belongs to another flow
    ///   or contradicts the map.
    public mutating func apply(_ update: OffsetMapUpdate) throws(MirrorError) {
        guard update.flow == flow else {
            throw MirrorError(.offsetMapConflict, "update for flow \(update.flow) offered to the map of flow \(flow)")
        }
        do {
            try partitions[update.partition, default: PartitionOffsetMap()].apply(update.change)
        } catch {
            throw MirrorError(error.code, "\(flow) \(update.partition): \(error.message)")
        }
    }

    /// The changes recorded since the last call, coalesced, partitions in sorted order.
    public mutating func takeUpdates() -> [OffsetMapUpdate] {
        var updates: [OffsetMapUpdate] = []
        for partition in changed.sorted() {
            guard let changes = partitions[partition]?.takeChanges() else { continue }
            updates += changes.map { OffsetMapUpdate(flow: flow, partition: partition, change: $0) }
        }
        changed.removeAll()
        return updates
    }

    /// `updates` read back from the compacted offset-map topic, in the order that applies them
    /// whatever order the topic holds them in: prune points, then ranges by source start, then
    /// accounted ends. Compaction keeps only each key's latest record, so a range stored again
    /// (grown, or cut by pruning) can come after later ranges and after the accounted end.
    public static func storedOrder(_ updates: [OffsetMapUpdate]) -> [OffsetMapUpdate] {
        func rank(_ change: OffsetMapUpdate.Change) -> (Int, Int64) {
            switch change {
            case .pruned(let below): (0, below.rawValue)
            case .removed(let start): (1, start.rawValue)
            case .mapped(let range): (2, range.sourceStart.rawValue)
            case .sourceEnd(let end): (3, end.rawValue)
            }
        }
        return updates.sorted { lhs, rhs in
            let (l, r) = (rank(lhs.change), rank(rhs.change))
            if l.0 != r.0 { return l.0 < r.0 }
            if lhs.partition != rhs.partition { return lhs.partition < rhs.partition }
            return l.1 < r.1
        }
    }

    /// Updates that rebuild the whole map (for compacting the cache file or republishing).
    public var snapshot: [OffsetMapUpdate] {
        partitions.keys.sorted().flatMap { partition in
            self[partition].snapshot.map { OffsetMapUpdate(flow: flow, partition: partition, change: $0) }
        }
    }

    /// Translates a committed offset of a source partition to the target (failover).
    public func translate(_ partition: TopicPartition, sourceOffset committed: Offset) -> OffsetTranslation {
        self[partition].translate(sourceOffset: committed)
    }

    /// Translates a committed offset of the target partition mirrored from `partition` back to
    /// the source (failback). `partition` is the *source* topic-partition.
    public func translate(_ partition: TopicPartition, targetOffset committed: Offset) -> OffsetTranslation {
        self[partition].translate(targetOffset: committed)
    }
}

extension PartitionOffsetMap {
    /// Whether the map holds nothing (no range, nothing accounted, nothing pruned).
    public var isEmpty: Bool { ranges.isEmpty && accountedEnd == 0 && prunedBelow == 0 }
}
