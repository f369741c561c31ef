/// What one cleaning of a partition did.
public struct PartitionCompactionReport: Sendable, Equatable, CustomStringConvertible {
    public var partition: Int32
    /// Closed segments whose file was replaced by a smaller one.
    public var segmentsRewritten: Int = 0
    /// Closed segments deleted because nothing in them was left.
    public var segmentsDeleted: Int = 0
    /// Records removed, tombstones included.
    public var recordsRemoved: Int = 0
    /// Tombstones removed because they were older than `delete.retention.ms`.
    public var tombstonesRemoved: Int = 0
    /// Bytes of the partition's segments before and after the cleaning.
    public var bytesBefore: Int = 0
    public var bytesAfter: Int = 0

    public init(partition: Int32) {
        self.partition = partition
    }

    public var description: String {
        "partition \(partition): \(recordsRemoved) records removed (\(tombstonesRemoved) tombstones), "
            + "\(segmentsRewritten) segments rewritten, \(segmentsDeleted) deleted, \(bytesBefore) -> \(bytesAfter) bytes"
    }
}

/// What one cleaning of a topic did, partition by partition.
public struct CompactionReport: Sendable, Equatable, CustomStringConvertible {
    public var topic: String
    /// One entry per partition that was cleaned (partitions with a single segment are skipped).
    public var partitions: [PartitionCompactionReport]

    public init(topic: String, partitions: [PartitionCompactionReport]) {
        self.topic = topic
        self.partitions = partitions
    }

    /// Records removed over all partitions.
    public var recordsRemoved: Int { partitions.reduce(0) { $0 + $1.recordsRemoved } }

    public var description: String {
        guard !partitions.isEmpty else { return "topic \(topic): nothing to clean\n" }
        return "topic \(topic): \(recordsRemoved) records removed\n" + partitions.map { "  \($0)\n" }.joined()
    }
}
