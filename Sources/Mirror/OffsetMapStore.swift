import KafkaClient
import Logging

/// Where a flow's offset map is kept at the target site: the internal compacted topic on the
/// target cluster (the record of truth) and the local cache file.
///
/// - Important: ``store(_:)`` writes the topic first (acks=all), then the file; ``load()`` reads
///   the file, then applies the whole topic over it (replays of what the file holds change
///   nothing). A crash between the two writes leaves the file behind, never ahead.
///
/// `@unchecked Sendable`: the session runs at most one store at a time (it waits for the
/// previous one before starting the next, and before closing), so the file is never used from
/// two tasks at once.
final class OffsetMapStore: @unchecked Sendable {
    let flow: FlowID
    let topic: TopicName
    private let file: OffsetMapFile
    private let producer: KafkaProducer
    private let logger: Logger

    private init(flow: FlowID, topic: TopicName, file: OffsetMapFile, producer: KafkaProducer, logger: Logger) {
        self.flow = flow
        self.topic = topic
        self.file = file
        self.producer = producer
        self.logger = logger
    }

    /// Creates the offset-map topic when missing (one partition, compacted).
    static func ensureTopic(_ topic: TopicName, admin: KafkaAdmin) async throws(MirrorError) {
        do {
            let existing = try await admin.listTopics()
            guard existing[topic.kafka] == nil else { return }
            let results = try await admin.createTopics([
                NewTopic(name: topic.kafka, partitions: 1, configs: ["cleanup.policy": "compact"])
            ])
            if case .failure(let error) = results[topic.kafka], error.code != .topicAlreadyExists {
                throw error
            }
        } catch let error as KafkaError {
            throw MirrorError(.kafka, "cannot create the offset-map topic \(topic) on the target cluster: \(error)",
                              isRetriable: error.isRetriable || error.code == .timedOut)
        } catch {
            throw MirrorError(.kafka, "cannot create the offset-map topic \(topic): \(error)", isRetriable: true)
        }
    }

    /// Loads the map: the cache file, then every record of the topic over it; the file is then
    /// rewritten to hold the whole map.
    ///
    /// Malformed topic records are logged and skipped (the codec says which and why).
    static func load(
        configuration: FlowConfiguration, admin: KafkaAdmin, producer: KafkaProducer, logger: Logger
    ) async throws(MirrorError) -> (store: OffsetMapStore, map: OffsetMap) {
        let flow = configuration.flow
        let topic = configuration.offsetMapTopic
        try await ensureTopic(topic, admin: admin)
        let loaded = try OffsetMapFile.open(path: configuration.offsetMapFilePath, flow: flow)
        if loaded.discardedTailBytes > 0 {
            logger.warning("offset-map file \(configuration.offsetMapFilePath): cut a torn tail of \(loaded.discardedTailBytes) byte(s)")
        }
        var map = loaded.map
        let partition = KafkaClient.TopicPartition(topic.kafka, 0)
        let marks: Watermarks
        do {
            marks = try await admin.watermarks(of: partition)
        } catch {
            throw MirrorError(.kafka, "cannot read the end of \(topic) on the target cluster: \(error)", isRetriable: true)
        }
        let scan = TargetLogScan(client: configuration.target.clientConfiguration(clientID: "switchback-map-\(flow.source)-\(flow.target)"),
                                 logger: logger)
        let records = try await scan.read(from: [partition: marks.low], to: [partition: marks.high])[partition] ?? []
        var applied = 0
        var stored: [OffsetMapUpdate] = []
        for record in records {
            // A record without a value is a tombstone for a range pruned away.
            guard let key = record.key, let value = record.value else { continue }
            do {
                let update = try OffsetMapRecordCodec.decode(key: key, value: value)
                if update.flow == flow { stored.append(update) }
            } catch {
                logger.warning("\(topic)@\(record.offset): \(error.message)")
            }
        }
        for update in OffsetMap.storedOrder(stored) {
            do {
                try map.apply(update)
                applied += 1
            } catch {
                logger.warning("\(topic): \(update): \(error.message)")
            }
        }
        // What was loaded is stored already; only later changes are to be stored again.
        _ = map.takeUpdates()
        try loaded.file.compact(to: map)
        logger.info("offset map of \(flow): \(map.rangeCount) range(s), \(applied) update(s) from \(topic)")
        return (OffsetMapStore(flow: flow, topic: topic, file: loaded.file, producer: producer, logger: logger), map)
    }

    /// Stores updates: the topic first (waiting for every acknowledgement), then the file.
    func store(_ updates: [OffsetMapUpdate]) async throws(MirrorError) {
        guard !updates.isEmpty else { return }
        let records = updates.map { update in
            let (key, value) = OffsetMapRecordCodec.encode(update)
            return ProducerRecord(topic: topic.kafka, partition: 0, key: key, value: value)
        }
        do {
            for outcome in try await producer.send(records) { _ = try outcome.get() }
        } catch {
            throw MirrorError(.kafka, "cannot store the offset map of \(flow) in \(topic): \(error)", isRetriable: true)
        }
        try file.append(updates)
    }

    /// Rewrites the cache file from `map` once it has grown by many appends.
    func compactIfLarge(_ map: OffsetMap) throws(MirrorError) {
        guard file.linesSinceCompaction > 100_000 else { return }
        try file.compact(to: map)
    }

    func close() {
        file.close()
    }
}
