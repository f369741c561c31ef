import Foundation
import KafkaWire
import Logging
import NIOCore

/// An offset a consumer group committed for one partition.
public struct CommittedOffset: Sendable, Equatable, Codable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The leader epoch the consumer saw with the offset; -1 when not given.
    public var leaderEpoch: Int32
    public var metadata: String?
    public var commitTimestampMs: Int64

    public init(topic: String, partition: Int32, offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = nil, commitTimestampMs: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestampMs = commitTimestampMs
    }
}

/// Committed consumer-group offsets, durable across restarts.
///
/// Stored as an append-only file of frames `length:uint32 crc32c:uint32 json`, one per commit
/// or deletion, so one OffsetCommit request is atomic. On open the frames are replayed (a torn
/// last frame is cut off) and the file is compacted to one frame per group by an atomic rewrite.
/// Commits are fsynced before returning under `FsyncPolicy.always`, by `flush()` otherwise.
///
/// - Important: not thread-safe; used from the broker's storage isolation domain.
public final class GroupOffsetStore {
    private struct Frame: Codable {
        var group: String
        var commits: [CommittedOffset]
        /// Partitions whose offsets are removed, as `[topic, partition]`.
        var deletions: [PartitionKey]
        /// A snapshot frame replaces everything known about the group.
        var replacesGroup: Bool
    }

    struct PartitionKey: Hashable, Codable {
        var topic: String
        var partition: Int32
    }

    private let path: String
    private let fsyncPolicy: FsyncPolicy
    private let logger: Logger
    private var file: StorageFile
    private var fileSize: Int
    private var hasUnsyncedWrites = false
    private var offsets: [String: [PartitionKey: CommittedOffset]] = [:]

    init(path: String, fsyncPolicy: FsyncPolicy, logger: Logger) throws(StorageError) {
        self.path = path
        self.fsyncPolicy = fsyncPolicy
        self.logger = logger
        let existing = try StorageFile.open(path, create: true)
        let bytes = try existing.read(at: 0, length: existing.size())
        existing.close()
        var reader = bytes
        while reader.readableBytes > 0 {
            guard let frame = Self.readFrame(&reader) else {
                logger.warning(
                    "cutting off a torn or corrupt tail of the group offset log",
                    metadata: ["path": "\(path)", "discardedBytes": "\(reader.readableBytes)"]
                )
                break
            }
            Self.apply(frame, to: &offsets)
        }
        // Compact: one frame per group, written atomically, then continue appending to it.
        var compacted = ByteBuffer()
        for (group, partitions) in offsets.sorted(by: { $0.key < $1.key }) {
            let commits = partitions.values.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            try Self.writeFrame(Frame(group: group, commits: commits, deletions: [], replacesGroup: true), to: &compacted)
        }
        try DataDirectory.writeAtomically(compacted, to: path)
        file = try StorageFile.open(path, create: false)
        fileSize = compacted.readableBytes
    }

    /// Groups with at least one committed offset.
    public var groups: [String] { offsets.keys.sorted() }

    /// Records the offsets of one OffsetCommit request, atomically.
    public func commit(group: String, offsets commits: [CommittedOffset]) throws {
        try append(Frame(group: group, commits: commits, deletions: [], replacesGroup: false))
    }

    /// Every committed offset of `group`, sorted by topic and partition.
    public func fetch(group: String) -> [CommittedOffset] {
        (offsets[group] ?? [:]).values.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    public func fetch(group: String, topic: String, partition: Int32) -> CommittedOffset? {
        offsets[group]?[PartitionKey(topic: topic, partition: partition)]
    }

    /// Removes the committed offsets of `partitions` (OffsetDelete).
    public func delete(group: String, partitions: [(topic: String, partition: Int32)]) throws {
        let keys = partitions.map { PartitionKey(topic: $0.topic, partition: $0.partition) }
        try append(Frame(group: group, commits: [], deletions: keys, replacesGroup: false))
    }

    /// Removes every committed offset of `group` (DeleteGroups).
    public func deleteGroup(_ group: String) throws {
        try append(Frame(group: group, commits: [], deletions: [], replacesGroup: true))
    }

    /// Removes the offsets every group committed for a deleted topic.
    func removeTopic(_ topic: String) throws {
        for (group, partitions) in offsets {
            let keys = partitions.keys.filter { $0.topic == topic }
            if !keys.isEmpty { try append(Frame(group: group, commits: [], deletions: keys, replacesGroup: false)) }
        }
    }

    /// Fsyncs commits written since the last flush.
    public func flush() throws {
        guard hasUnsyncedWrites else { return }
        try file.sync()
        hasUnsyncedWrites = false
    }

    func close() { file.close() }

    private func append(_ frame: Frame) throws {
        var bytes = ByteBuffer()
        try Self.writeFrame(frame, to: &bytes)
        do {
            try file.write(bytes, at: fileSize)
            if fsyncPolicy == .always { try file.sync() } else { hasUnsyncedWrites = true }
        } catch {
            // The next frame overwrites whatever part of this one reached the file.
            try? file.truncate(to: fileSize)
            throw error
        }
        fileSize += bytes.readableBytes
        Self.apply(frame, to: &offsets)
    }

    private static func apply(_ frame: Frame, to offsets: inout [String: [PartitionKey: CommittedOffset]]) {
        var partitions = frame.replacesGroup ? [:] : offsets[frame.group] ?? [:]
        for key in frame.deletions { partitions[key] = nil }
        for commit in frame.commits { partitions[PartitionKey(topic: commit.topic, partition: commit.partition)] = commit }
        offsets[frame.group] = partitions.isEmpty ? nil : partitions
    }

    private static func writeFrame(_ frame: Frame, to buffer: inout ByteBuffer) throws(StorageError) {
        let json: Data
        do {
            json = try JSONEncoder().encode(frame)
        } catch {
            throw StorageError(.corruptMetadata(path: "group offsets"), "could not encode offsets of group '\(frame.group)': \(error)")
        }
        buffer.writeInteger(UInt32(json.count))
        buffer.writeInteger(CRC32C.checksum(json))
        buffer.writeBytes(json)
    }

    private static func readFrame(_ buffer: inout ByteBuffer) -> Frame? {
        let start = buffer.readerIndex
        guard let length: UInt32 = buffer.readInteger(), let crc: UInt32 = buffer.readInteger(),
            let payload = buffer.readSlice(length: Int(length)), CRC32C.checksum(payload) == crc,
            let frame = try? JSONDecoder().decode(Frame.self, from: Data(payload.readableBytesView))
        else {
            buffer.moveReaderIndex(to: start)
            return nil
        }
        return frame
    }
}
