/// One change to a flow's offset map, as stored in the local cache file and on the internal
/// offset-map topic of the target cluster.
///
/// Updates are deltas: applying a map's updates in the order they were taken rebuilds the map.
/// - Important: The internal topic is the record of truth. Write each batch of updates to the
///   topic first (acks=all), then to the cache file; on start, load the file, then apply what
///   the topic holds beyond it. A crash between the two writes leaves the file behind, never ahead.
public struct OffsetMapUpdate: Hashable, Sendable, CustomStringConvertible {
    /// One kind of change.
    public enum Change: Hashable, Sendable {
        /// These source offsets were copied to these target offsets.
        case mapped(MappedRange)
        /// Every source offset below this was copied or deliberately not copied.
        case sourceEnd(Offset)
        /// Source offsets below this were pruned (retention).
        case pruned(belowSource: Offset)
        /// The range stored under this source start is gone (pruned): a tombstone for its key
        /// in the compacted offset-map topic. Applying it changes nothing; `pruned` does.
        case removed(sourceStart: Offset)
    }

    /// The flow whose map this belongs to.
    public var flow: FlowID
    /// The *source* topic-partition.
    public var partition: TopicPartition
    public var change: Change

    public init(flow: FlowID, partition: TopicPartition, change: Change) {
        self.flow = flow
        self.partition = partition
        self.change = change
    }

    public var description: String {
        switch change {
        case .mapped(let range): "\(flow) \(partition) mapped \(range)"
        case .sourceEnd(let end): "\(flow) \(partition) accounted through \(end)"
        case .pruned(let below): "\(flow) \(partition) pruned below \(below)"
        case .removed(let start): "\(flow) \(partition) range at \(start) removed"
        }
    }
}
