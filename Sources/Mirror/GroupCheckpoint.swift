import Foundation

/// One group's committed source offsets, read at one instant, and their exact translation.
///
/// A flow's ``GroupCheckpointer`` takes one per selected group every checkpoint interval and
/// stores it at the flow's target site (``GroupCheckpointStore``), so that after the source site
/// is lost the group can be positioned at the target from what was committed at most one
/// interval before the loss (``OffsetTranslationService/translateFromCheckpoints(dryRun:maxAge:groups:)``).
///
/// `target` holds only the partitions whose offset translated exactly when the checkpoint was
/// taken; a committed offset beyond what the flow had mirrored at that moment is in `source` but
/// not in `target` (translation from checkpoints tries it again against the newer map).
public struct GroupCheckpoint: Sendable, Hashable, Codable {
    /// The group, as named on both clusters.
    public var group: ConsumerGroupID
    /// Committed offsets at the source (next record to read), per source topic-partition.
    public var source: [TopicPartition: Offset]
    /// Exact translation at the target (target topic names), per target topic-partition.
    public var target: [TopicPartition: Offset]
    /// When the source offsets were read.
    public var readAt: Date

    public init(group: ConsumerGroupID, source: [TopicPartition: Offset], target: [TopicPartition: Offset], readAt: Date) {
        self.group = group
        self.source = source
        self.target = target
        self.readAt = readAt
    }

    /// How long ago the source offsets were read, as of `now` (never negative).
    public func age(at now: Date) -> Duration {
        let seconds = max(0, now.timeIntervalSince(readAt))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    // MARK: Codable
    //
    // Offsets are written as lists of `{topic, partition, offset}` rather than Swift's default
    // for dictionaries with non-string keys (alternating keys and values), so that a stored
    // checkpoint reads plainly with kcat or jq. `readAt` is milliseconds since the epoch.

    private enum CodingKeys: String, CodingKey {
        case group, source, target, readAtMs
    }

    private struct Position: Codable {
        var topic: TopicName
        var partition: PartitionID
        var offset: Offset
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        group = try container.decode(ConsumerGroupID.self, forKey: .group)
        source = try Self.positions(container, .source)
        target = try Self.positions(container, .target)
        let milliseconds = try container.decode(Int64.self, forKey: .readAtMs)
        readAt = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(group, forKey: .group)
        try container.encode(Self.list(source), forKey: .source)
        try container.encode(Self.list(target), forKey: .target)
        try container.encode(Int64((readAt.timeIntervalSince1970 * 1000).rounded()), forKey: .readAtMs)
    }

    private static func list(_ offsets: [TopicPartition: Offset]) -> [Position] {
        offsets.keys.sorted().map { Position(topic: $0.topic, partition: $0.partition, offset: offsets[$0] ?? 0) }
    }

    private static func positions(
        _ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys
    ) throws -> [TopicPartition: Offset] {
        var offsets: [TopicPartition: Offset] = [:]
        for position in try container.decode([Position].self, forKey: key) {
            guard position.offset.rawValue >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "negative offset \(position.offset) for \(position.topic)/\(position.partition)")
            }
            let partition = TopicPartition(position.topic, position.partition)
            guard offsets.updateValue(position.offset, forKey: partition) == nil else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(partition) is listed twice")
            }
        }
        return offsets
    }
}
