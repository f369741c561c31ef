import KafkaClient

// Finding where each source partition resumes, and assigning it: at set-up and whenever the
// source grows.
extension FlowSession {
    /// Adds topics and partitions not copied yet: finds their resume positions and assigns the
    /// whole set again (known partitions at the next offset the loop accepts).
    func add(_ mirrored: [MirroredTopic]) async throws(MirrorError) {
        var added: [TopicPartition] = []
        for topic in mirrored {
            let known = topics[topic.source]?.partitions ?? 0
            guard topic.partitions > known else { continue }
            topics[topic.source] = topic
            for number in known..<topic.partitions {
                if let partition = PartitionID(rawValue: number) { added.append(TopicPartition(topic.source, partition)) }
            }
        }
        guard !added.isEmpty else { return }
        let resumes = try await resumePositions(for: added)
        for partition in added {
            let low = try await sourceLogStart(partition)
            // Records deleted at the source since the last copy (retention) are gone: start at
            // the log start, and count them as dealt with so a drain does not wait for them.
            let start = max(resumes[partition] ?? low, low)
            positions[partition] = start
            nextAccepted[partition] = start
        }
        var assignment: [KafkaClient.TopicPartition: StartOffset] = [:]
        for (partition, next) in nextAccepted { assignment[partition.kafka] = .offset(next.kafka) }
        lagProbe.watch(Array(nextAccepted.keys))
        do {
            try await consumer.assign(assignment)
        } catch {
            throw MirrorError(.kafka, "cannot assign the source partitions of \(configuration.flow): \(error)", isRetriable: true)
        }
        consumerPaused = false
        logger.info("\(configuration.flow): copying \(added.count) more partition(s); \(nextAccepted.count) in all")
    }

    func sourceLogStart(_ partition: TopicPartition) async throws(MirrorError) -> Offset {
        do {
            return Offset(kafka: try await sourceAdmin.watermarks(of: partition.kafka).low)
        } catch {
            throw MirrorError(.kafka, "cannot read the log start of \(partition) on \(configuration.flow.source): \(error)",
                              isRetriable: true)
        }
    }

    /// Catches the offset map up from the target log and finds where each partition resumes.
    func resumePositions(for partitions: [TopicPartition]) async throws(MirrorError) -> [TopicPartition: Offset] {
        let flow = configuration.flow
        var starts: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        var ends: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        var targets: [TopicPartition: TopicPartition] = [:]
        for partition in partitions {
            guard let topic = topics[partition.topic] else { continue }
            let target = TopicPartition(topic.target, partition.partition)
            targets[partition] = target
            let marks: Watermarks
            do {
                marks = try await targetAdmin.watermarks(of: target.kafka)
            } catch {
                throw MirrorError(.kafka, "cannot read the end of \(target) on \(flow.target): \(error)", isRetriable: true)
            }
            let catchUp = map.catchUpStart(for: partition)
            guard marks.high.rawValue >= catchUp.rawValue else {
                throw MirrorError(
                    .cannotResume,
                    "\(flow): target partition \(target) ends at \(marks.high) but the offset map holds copies up to "
                        + "\(catchUp): the target topic was recreated or truncated. Move the offset map aside "
                        + "(\(configuration.offsetMapFilePath) and topic \(configuration.offsetMapTopic)) only if the "
                        + "target topic is meant to start over")
            }
            starts[target.kafka] = KafkaClient.Offset(max(catchUp.rawValue, marks.low.rawValue))
            ends[target.kafka] = marks.high
        }
        let scan = TargetLogScan(client: configuration.target.clientConfiguration(clientID: "switchback-resume"), logger: logger)
        let scanned = try await scan.read(from: starts, to: ends)
        var resumes: [TopicPartition: Offset] = [:]
        for partition in partitions {
            guard let target = targets[partition] else { continue }
            let records = scanned[target.kafka] ?? []
            try map.recordCopies(of: partition, inTargetRecords: records.map { ($0.offset, $0.headers) })
            resumes[partition] = try FlowResume.resumeOffset(
                policy: configuration.naming.policy, scannedTargetHeaders: records.map(\.headers), map: map[partition],
                sourceSite: flow.source, sourceTopic: partition.topic, partition: partition.partition)
        }
        return resumes
    }
}
