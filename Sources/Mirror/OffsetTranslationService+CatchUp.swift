import KafkaClient

extension OffsetTranslationService {
    /// The flow's offset map as stored at the target site, caught up from the target log: the
    /// copies the flow made after its last store (up to one store interval, or everything a
    /// session had not stored when it failed) are found by their `switchback-source` headers,
    /// as resume does. Without this, groups at the newest positions translate as "beyond
    /// mirrored" although their records are at the target.
    ///
    /// - Parameter partitions: source partitions to catch up besides those the map holds (the
    ///   partitions a group has commits for, whose first copies may postdate the last store).
    public func loadCurrentOffsetMap(partitions extra: some Sequence<TopicPartition> = []) async throws(MirrorError) -> OffsetMap {
        var map = try await loadOffsetMap()
        try await catchUp(&map, partitions: Set(map.partitions.keys).union(extra))
        return map
    }

    /// Records in `map` the copies found in the target partitions mirrored from `partitions`
    /// after the map's last mapped target offset.
    func catchUp(_ map: inout OffsetMap, partitions: Set<TopicPartition>) async throws(MirrorError) {
        let flow = configuration.flow
        let client = configuration.target.clientConfiguration(clientID: "switchback-translate")
        let admin: KafkaAdmin
        do {
            admin = try KafkaAdmin(configuration: client, logger: logger)
        } catch {
            throw MirrorError(.kafka, "cannot create an admin client for \(flow.target): \(error)")
        }
        let existing: [KafkaClient.TopicName: TopicMetadata]
        do {
            existing = try await admin.listTopics()
        } catch {
            throw MirrorError(.kafka, "cannot list the topics of \(flow.target): \(error)", isRetriable: true)
        }
        var starts: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        var ends: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        var sources: [KafkaClient.TopicPartition: TopicPartition] = [:]
        for source in partitions {
            guard case .mirror(let topic) = configuration.naming.decision(for: source.topic, from: flow.source, to: flow.target),
                let metadata = existing[topic.kafka], Int(source.partition.rawValue) < metadata.partitionCount
            else { continue }
            let target = TopicPartition(topic, source.partition).kafka
            let marks: Watermarks
            do {
                marks = try await admin.watermarks(of: target)
            } catch {
                throw MirrorError(.kafka, "cannot read the end of \(target) on \(flow.target): \(error)", isRetriable: true)
            }
            let start = max(map.catchUpStart(for: source).rawValue, marks.low.rawValue)
            guard start < marks.high.rawValue else { continue }
            starts[target] = KafkaClient.Offset(start)
            ends[target] = marks.high
            sources[target] = source
        }
        guard !starts.isEmpty else { return }
        let scan = TargetLogScan(client: client, logger: logger)
        for (target, records) in try await scan.read(from: starts, to: ends) {
            guard let source = sources[target] else { continue }
            let found = try map.recordCopies(of: source, inTargetRecords: records.map { ($0.offset, $0.headers) })
            if found > 0 { logger.debug("\(source): \(found) copy(ies) at \(flow.target) not in the stored map yet") }
        }
    }
}
