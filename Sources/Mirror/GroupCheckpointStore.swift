import Foundation
import KafkaClient
import Logging

extension FlowConfiguration {
    /// The internal, compacted topic on the target cluster holding this flow's group checkpoints,
    /// one record per group: `__switchback.checkpoints.<source>.<target>`.
    public var checkpointTopic: TopicName {
        // Site names are 1–63 characters of a-z 0-9 '-': the name is always legal.
        TopicName(uncheckedRawValue: "__switchback.checkpoints.\(source.site).\(target.site)")
    }

    /// The local file of this flow's group checkpoints (the newest of each group).
    public var checkpointFilePath: String {
        let directory = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        return "\(directory)/checkpoints-\(source.site)-\(target.site).json"
    }
}

/// Where a flow's group checkpoints are kept at its target site: the compacted checkpoint topic
/// on the target cluster (survives the loss of this host) and a local file (survives the loss of
/// the target cluster's reachability from here). Both hold the newest checkpoint of each group;
/// reading takes the newer of the two per group.
///
/// The file is replaced atomically (temporary file, fsync, rename, fsync of the directory), so a
/// crash leaves the previous set or the new one.
public struct GroupCheckpointStore: Sendable {
    public let configuration: FlowConfiguration
    private let logger: Logger

    public init(configuration: FlowConfiguration, logger: Logger = Logger(label: "switchback.mirror.checkpoints")) {
        self.configuration = configuration
        self.logger = logger
    }

    private var flow: FlowID { configuration.flow }

    /// Creates the checkpoint topic when missing (one partition, compacted).
    public func ensureTopic(admin: KafkaAdmin) async throws(MirrorError) {
        let topic = configuration.checkpointTopic
        do {
            guard try await admin.listTopics()[topic.kafka] == nil else { return }
            let results = try await admin.createTopics([
                NewTopic(name: topic.kafka, partitions: 1, configs: ["cleanup.policy": "compact"])
            ])
            if case .failure(let error) = results[topic.kafka], error.code != .topicAlreadyExists { throw error }
        } catch {
            throw MirrorError(.kafka, "cannot create the checkpoint topic \(topic) on \(flow.target): \(error)", isRetriable: true)
        }
    }

    /// Stores checkpoints in the topic (waiting for every acknowledgement) and then replaces the
    /// local file with `all` (every group's newest checkpoint, the stored ones included).
    public func store(_ checkpoints: [GroupCheckpoint], all: [GroupCheckpoint], producer: KafkaProducer) async throws(MirrorError) {
        let topic = configuration.checkpointTopic
        if !checkpoints.isEmpty {
            let records = checkpoints.map { checkpoint in
                let (key, value) = GroupCheckpointCodec.encode(checkpoint, flow: flow)
                return ProducerRecord(topic: topic.kafka, partition: 0, key: key, value: value)
            }
            do {
                for outcome in try await producer.send(records) { _ = try outcome.get() }
            } catch {
                throw MirrorError(.kafka, "cannot store the group checkpoints of \(flow) in \(topic): \(error)", isRetriable: true)
            }
        }
        try writeFile(all)
    }

    /// Replaces the local checkpoint file with `checkpoints`.
    public func writeFile(_ checkpoints: [GroupCheckpoint]) throws(MirrorError) {
        try OffsetMapFile.writeAtomically(
            GroupCheckpointCodec.encodeFile(checkpoints, flow: flow), to: configuration.checkpointFilePath, kind: "checkpoint file")
    }

    /// The checkpoints in the local file (empty when there is none).
    public func readFile() throws(MirrorError) -> [ConsumerGroupID: GroupCheckpoint] {
        let path = configuration.checkpointFilePath
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return [:]
        } catch {
            throw MirrorError(.storage, "cannot read the checkpoint file \(path): \(error.localizedDescription); check the "
                + "data directory's permissions", isRetriable: true)
        }
        var newest: [ConsumerGroupID: GroupCheckpoint] = [:]
        for checkpoint in try GroupCheckpointCodec.decodeFile(Array(bytes), flow: flow, path: path) {
            Self.keepNewer(checkpoint, in: &newest)
        }
        return newest
    }

    /// The checkpoints in the topic, the newest per group. Malformed records are logged and
    /// skipped (the codec says which and why); records of another flow are ignored.
    public func readTopic() async throws(MirrorError) -> [ConsumerGroupID: GroupCheckpoint] {
        let topic = configuration.checkpointTopic
        let client = configuration.target.clientConfiguration(clientID: "switchback-checkpoints")
        let partition = KafkaClient.TopicPartition(topic.kafka, 0)
        let marks: Watermarks
        do {
            let admin = try KafkaAdmin(configuration: client, logger: logger)
            guard try await admin.listTopics()[topic.kafka] != nil else { return [:] }
            marks = try await admin.watermarks(of: partition)
        } catch {
            throw MirrorError(.kafka, "cannot read \(topic) on \(flow.target): \(error)", isRetriable: true)
        }
        var newest: [ConsumerGroupID: GroupCheckpoint] = [:]
        let scan = TargetLogScan(client: client, logger: logger)
        for record in try await scan.read(from: [partition: marks.low], to: [partition: marks.high])[partition] ?? [] {
            guard let key = record.key, let value = record.value else { continue }
            do {
                let (recordFlow, checkpoint) = try GroupCheckpointCodec.decode(key: key, value: value)
                guard recordFlow == flow else { continue }
                Self.keepNewer(checkpoint, in: &newest)
            } catch {
                logger.warning("\(topic)@\(record.offset): \(error.message)")
            }
        }
        return newest
    }

    /// The newest checkpoint of each group from the topic and the file.
    ///
    /// - Parameter readTopic: `false` reads the file alone (target cluster unreachable from here).
    /// - Returns: the checkpoints, and why one of the two could not be read (empty when both
    ///   were). Only when neither can be read does this throw.
    public func load(readTopic: Bool = true) async throws(MirrorError) -> (checkpoints: [ConsumerGroupID: GroupCheckpoint], problems: [String]) {
        var problems: [String] = []
        var fromFile: [ConsumerGroupID: GroupCheckpoint] = [:]
        var fileFailure: MirrorError?
        do {
            fromFile = try readFile()
        } catch {
            fileFailure = error
            problems.append(error.message)
        }
        guard readTopic else {
            if let fileFailure { throw fileFailure }
            return (fromFile, problems)
        }
        var merged: [ConsumerGroupID: GroupCheckpoint]
        do {
            merged = try await self.readTopic()
        } catch {
            if let fileFailure {
                throw MirrorError(.storage, "no group checkpoints of \(flow) can be read: \(error.message); and \(fileFailure.message)",
                                  isRetriable: true)
            }
            problems.append(error.message)
            merged = [:]
        }
        for checkpoint in fromFile.values { Self.keepNewer(checkpoint, in: &merged) }
        return (merged, problems)
    }

    private static func keepNewer(_ checkpoint: GroupCheckpoint, in newest: inout [ConsumerGroupID: GroupCheckpoint]) {
        if let known = newest[checkpoint.group], known.readAt >= checkpoint.readAt { return }
        newest[checkpoint.group] = checkpoint
    }
}
