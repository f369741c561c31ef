import Foundation
import KafkaWire
import Logging
import NIOCore

/// The broker's whole on-disk state: topics and their partition logs, committed group offsets,
/// and the producer id counter.
///
/// Layout under the data directory:
/// - `topics/<topic>-<partition>/` — segments `<20-digit base>.log`, sparse `<base>.index`,
///   `log-start-offset` (after DeleteRecords), `producer-state.json` (at clean shutdown)
/// - `topic-metadata/<topic>.json` — name, id, partition count, explicit configs; the topic
///   exists exactly when this file does (written atomically)
/// - `group-offsets.log` — committed offsets (see `GroupOffsetStore`)
/// - `producer-ids` — the next unallocated block of producer ids
/// - `clean-shutdown` — present only between `close()` and the next open
/// - `lock` — held while a store has the directory open
///
/// Durability: under `FsyncPolicy.always` an append, commit or metadata change is on stable
/// storage when the call returns. Under `.interval` appends and commits are fsynced by `flush()`,
/// which the broker calls every `fsyncInterval`: a machine crash (not a process crash, since the
/// data is already in the page cache) can lose up to that window. Metadata changes are always
/// fsynced.
///
/// - Important: not thread-safe; the broker uses it from its single storage isolation domain.
public final class LogStore {
    let configuration: BrokerConfiguration
    private let logger: Logger
    private let root: String
    private let lock: StorageFile
    var metadata: [String: TopicMetadata] = [:]
    var settings: [String: TopicSettings] = [:]
    var partitions: [String: [PartitionLog]] = [:]
    private var nextProducerId: Int64 = 0
    private var producerIdBlockEnd: Int64 = 0
    private var isClosed = false

    /// Committed consumer-group offsets.
    public let groupOffsets: GroupOffsetStore

    static let producerIdBlockSize: Int64 = 1000
    static let cleanShutdownMarker = "clean-shutdown"

    private var topicsDirectory: String { root + "/topics" }
    private var metadataDirectory: String { root + "/topic-metadata" }

    /// Opens the data directory (creating it when new) and recovers every topic, partition and
    /// group offset in it.
    public init(configuration: BrokerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        root = configuration.dataDirectory.path
        try DataDirectory.create(root + "/topics")
        try DataDirectory.create(root + "/topic-metadata")
        lock = try StorageFile.open(root + "/lock", create: true)
        try lock.lockExclusively()

        let markerPath = root + "/" + Self.cleanShutdownMarker
        let cleanShutdown = DataDirectory.exists(markerPath)
        // From here until close() the state on disk is "in use": a crash means full recovery.
        try DataDirectory.remove(markerPath)
        try DataDirectory.sync(root)

        groupOffsets = try GroupOffsetStore(path: root + "/group-offsets.log", fsyncPolicy: configuration.fsync, logger: logger)
        if let bytes = try DataDirectory.read(root + "/producer-ids"),
            let stored = Int64(String(buffer: bytes).trimmingCharacters(in: .whitespacesAndNewlines))
        {
            nextProducerId = stored
            producerIdBlockEnd = stored
        }

        try loadTopics(cleanShutdown: cleanShutdown)
        logger.info(
            "storage opened",
            metadata: [
                "dataDirectory": "\(root)", "topics": "\(metadata.count)",
                "recovery": "\(cleanShutdown ? "clean shutdown" : "full scan")",
            ]
        )
    }

    private func loadTopics(cleanShutdown: Bool) throws(StorageError) {
        for name in DataDirectory.entries(metadataDirectory) {
            let path = metadataDirectory + "/" + name
            guard name.hasSuffix(".json") else {
                if name.hasSuffix(".tmp") { try DataDirectory.remove(path) }
                continue
            }
            guard let bytes = try DataDirectory.read(path),
                let topic = try? JSONDecoder().decode(TopicMetadata.self, from: Data(bytes.readableBytesView))
            else {
                throw StorageError(
                    .corruptMetadata(path: path),
                    "topic metadata \(path) cannot be read; restore it from a backup or delete it together with the topic's partition directories"
                )
            }
            let topicSettings = try TopicSettings(configs: topic.configs, brokerSegmentBytes: configuration.segmentBytes)
            metadata[topic.name] = topic
            settings[topic.name] = topicSettings
            var logs: [PartitionLog] = []
            for partition in 0..<topic.partitionCount {
                logs.append(try openPartition(topic.name, Int32(partition), topicSettings, cleanShutdown: cleanShutdown))
            }
            partitions[topic.name] = logs
        }
        // Partition directories without a topic are leftovers of a creation or deletion that
        // a crash interrupted: the metadata file is the commit point.
        for name in DataDirectory.entries(topicsDirectory) {
            guard let dash = name.lastIndex(of: "-"), let partition = Int(name[name.index(after: dash)...]) else { continue }
            let topic = String(name[..<dash])
            if let known = metadata[topic], partition < known.partitionCount { continue }
            logger.warning("removing partition directory of a topic that does not exist", metadata: ["directory": "\(name)"])
            try DataDirectory.remove(topicsDirectory + "/" + name)
        }
    }

    private func openPartition(_ topic: String, _ partition: Int32, _ settings: TopicSettings, cleanShutdown: Bool) throws(StorageError) -> PartitionLog {
        try PartitionLog.open(
            topic: topic,
            partition: partition,
            directory: topicsDirectory + "/\(topic)-\(partition)",
            settings: settings,
            fsyncPolicy: configuration.fsync,
            cleanShutdown: cleanShutdown,
            logger: logger
        )
    }

    // MARK: Topics

    /// Every topic, sorted by name.
    public var topics: [TopicMetadata] { metadata.values.sorted { $0.name < $1.name } }

    public func topic(_ name: String) -> TopicMetadata? { metadata[name] }

    public func partition(_ topic: String, _ partition: Int32) -> PartitionLog? {
        guard let logs = partitions[topic], partition >= 0, Int(partition) < logs.count else { return nil }
        return logs[Int(partition)]
    }

    /// The largest partition count a topic may have: each partition is a directory with files.
    public static let maximumPartitions = 10_000

    /// Creates a topic with `partitions` empty partitions and the given explicit configs.
    public func createTopic(_ name: String, partitions count: Int, configs: [String: String]) throws(StorageError) -> TopicMetadata {
        let topicSettings = try checkedNewTopic(name, partitions: count, configs: configs)
        // Directories left by an interrupted deletion of an earlier topic of this name are stale.
        for partition in 0..<count {
            try DataDirectory.remove(topicsDirectory + "/\(name)-\(partition)")
        }
        let topic = TopicMetadata(name: name, topicID: TopicID.random(), partitionCount: count, configs: configs)
        var logs: [PartitionLog] = []
        for partition in 0..<count {
            logs.append(try openPartition(name, Int32(partition), topicSettings, cleanShutdown: false))
        }
        try DataDirectory.sync(topicsDirectory)
        try persist(topic)
        metadata[name] = topic
        settings[name] = topicSettings
        partitions[name] = logs
        logger.info("created topic", metadata: ["topic": "\(name)", "partitions": "\(count)"])
        return topic
    }

    /// Checks everything `createTopic` would check, changing nothing (CreateTopics `validateOnly`).
    public func validateNewTopic(_ name: String, partitions count: Int, configs: [String: String]) throws(StorageError) {
        _ = try checkedNewTopic(name, partitions: count, configs: configs)
    }

    private func checkedNewTopic(_ name: String, partitions count: Int, configs: [String: String]) throws(StorageError) -> TopicSettings {
        try TopicName.validate(name)
        guard metadata[name] == nil else {
            throw StorageError(.topicAlreadyExists, "topic '\(name)' already exists; delete it first or use another name")
        }
        // Kafka forbids names that differ only in '.' versus '_': they collide in metric names.
        let normalized = name.replacingOccurrences(of: ".", with: "_")
        if let clash = metadata.keys.first(where: { $0.replacingOccurrences(of: ".", with: "_") == normalized }) {
            throw StorageError(.invalidTopicName, "topic '\(name)' collides with existing topic '\(clash)' (names differing only in '.' and '_' collide); choose another name")
        }
        try Self.checkPartitionCount(count, for: name)
        return try TopicSettings(configs: configs, brokerSegmentBytes: configuration.segmentBytes)
    }

    /// Deletes a topic, its data and the offsets groups committed for it.
    public func deleteTopic(_ name: String) throws(StorageError) {
        guard let topic = metadata[name] else { throw .unknownTopic(name) }
        try DataDirectory.remove(metadataPath(name))
        try DataDirectory.sync(metadataDirectory)
        metadata[name] = nil
        settings[name] = nil
        for log in partitions.removeValue(forKey: name) ?? [] { log.close() }
        for partition in 0..<topic.partitionCount {
            try DataDirectory.remove(topicsDirectory + "/\(name)-\(partition)")
        }
        do {
            try groupOffsets.removeTopic(name)
        } catch {
            logger.error("could not remove committed offsets of deleted topic", metadata: ["topic": "\(name)", "error": "\(error)"])
        }
        logger.info("deleted topic", metadata: ["topic": "\(name)"])
    }

    /// Grows a topic to `totalCount` partitions (CreatePartitions).
    public func createPartitions(_ name: String, totalCount: Int) throws(StorageError) {
        try validateCreatePartitions(name, totalCount: totalCount)
        guard var topic = metadata[name], let topicSettings = settings[name] else { throw .unknownTopic(name) }
        var added: [PartitionLog] = []
        for partition in topic.partitionCount..<totalCount {
            added.append(try openPartition(name, Int32(partition), topicSettings, cleanShutdown: false))
        }
        try DataDirectory.sync(topicsDirectory)
        topic.partitionCount = totalCount
        try persist(topic)
        metadata[name] = topic
        partitions[name, default: []].append(contentsOf: added)
    }

    /// Checks everything `createPartitions` would check, changing nothing (`validateOnly`).
    public func validateCreatePartitions(_ name: String, totalCount: Int) throws(StorageError) {
        guard let topic = metadata[name] else { throw .unknownTopic(name) }
        guard totalCount > topic.partitionCount else {
            throw StorageError(
                .invalidPartitions,
                "topic '\(name)' has \(topic.partitionCount) partitions; the new count \(totalCount) must be larger (partitions cannot be removed)"
            )
        }
        try Self.checkPartitionCount(totalCount, for: name)
    }

    private static func checkPartitionCount(_ count: Int, for name: String) throws(StorageError) {
        guard count >= 1, count <= maximumPartitions else {
            throw StorageError(
                .invalidPartitions,
                "partition count \(count) for topic '\(name)' is invalid; use 1...\(maximumPartitions)"
            )
        }
    }

    func metadataPath(_ name: String) -> String { metadataDirectory + "/\(name).json" }

    func persist(_ topic: TopicMetadata) throws(StorageError) {
        let path = metadataPath(topic.name)
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(topic)
        } catch {
            throw StorageError(.corruptMetadata(path: path), "could not encode metadata of topic '\(topic.name)': \(error)")
        }
        try DataDirectory.writeAtomically(ByteBuffer(bytes: data), to: path)
    }

    // MARK: Producer ids

    /// A producer id never handed out before, also across restarts (InitProducerId).
    ///
    /// Ids are reserved in blocks of 1000 so only one allocation in a thousand writes a file.
    public func allocateProducerId() throws -> Int64 {
        if nextProducerId >= producerIdBlockEnd {
            let end = nextProducerId + Self.producerIdBlockSize
            try DataDirectory.writeAtomically(ByteBuffer(string: "\(end)\n"), to: root + "/producer-ids")
            producerIdBlockEnd = end
        }
        defer { nextProducerId += 1 }
        return nextProducerId
    }

    // MARK: Maintenance

    /// Applies retention (time and size) to every partition; never deletes an active segment.
    public func enforceRetention(nowMs: Int64) {
        for (name, logs) in partitions {
            for log in logs {
                do {
                    try log.enforceRetention(nowMs: nowMs)
                } catch {
                    logger.error("retention failed", metadata: ["partition": "\(name)-\(log.partition)", "error": "\(error)"])
                }
            }
        }
    }

    /// Fsyncs every unsynced append and commit (for `FsyncPolicy.interval` ticks and shutdown).
    public func flush() throws {
        for logs in partitions.values {
            for log in logs { try log.flush() }
        }
        try groupOffsets.flush()
    }

    /// Flushes everything, writes the producer snapshots and the clean-shutdown marker, and
    /// closes every file. The store must not be used afterwards.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        do {
            try flush()
            for logs in partitions.values {
                for log in logs {
                    try log.writeProducerSnapshot()
                    try log.writeTransactionSnapshot()
                }
            }
            try DataDirectory.writeAtomically(ByteBuffer(string: "1\n"), to: root + "/" + Self.cleanShutdownMarker)
        } catch {
            logger.error("unclean close: the next start will scan every log", metadata: ["error": "\(error)"])
        }
        for logs in partitions.values {
            for log in logs { log.close() }
        }
        groupOffsets.close()
        lock.close()
    }
}
