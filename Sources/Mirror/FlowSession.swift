import Foundation
import KafkaClient
import Logging
import Metrics

/// One connected run of a flow, from set-up to finish: its clients, its offset map, and the
/// copy loop. A failure ends the session; the ``Flow`` starts a new one, which finds its
/// positions again from the target (exactly-once resume), so a session keeps no state that a
/// restart needs.
final class FlowSession {
    /// One source record in a batch handed to the producer.
    private struct Entry {
        var source: TopicPartition
        var offset: Offset
        /// `false` for records not copied (loop prevention); they only advance the position.
        var copied: Bool
        var bytes: Int
        var timestamp: Int64?
    }

    private struct InFlightBatch {
        var entries: [Entry]
        var task: Task<[Result<DeliveredRecord, KafkaError>], any Error>
    }

    let configuration: FlowConfiguration
    private let logger: Logger
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let producer: KafkaProducer
    private let consumer: KafkaConsumer
    private let store: OffsetMapStore
    let queue: RecordQueue
    private(set) var map: OffsetMap
    /// Source topic → its target topic and partition count.
    private var topics: [TopicName: MirroredTopic] = [:]
    /// Next source offset dealt with (copied and acknowledged, or skipped), per source partition.
    private(set) var positions: [TopicPartition: Offset] = [:]
    /// Next source offset the copy loop accepts; lower ones are re-fetches after a reassignment.
    private var nextAccepted: [TopicPartition: Offset] = [:]
    private var inFlight: [InFlightBatch] = []
    private var metrics: FlowMetrics
    private var consumerPaused = false

    private init(
        configuration: FlowConfiguration, logger: Logger, sourceAdmin: KafkaAdmin, targetAdmin: KafkaAdmin,
        producer: KafkaProducer, consumer: KafkaConsumer, store: OffsetMapStore, map: OffsetMap,
        metricsFactory: any MetricsFactory
    ) {
        self.configuration = configuration
        self.logger = logger
        self.sourceAdmin = sourceAdmin
        self.targetAdmin = targetAdmin
        self.producer = producer
        self.consumer = consumer
        self.store = store
        self.map = map
        self.queue = RecordQueue(capacity: configuration.batching.maxBufferedRecords)
        self.metrics = FlowMetrics(flow: configuration.flow, factory: metricsFactory)
    }

    // MARK: Set-up

    /// Connects, provisions the target topics, loads the offset map, catches it up from the
    /// target log, and assigns every source partition at its resume position.
    static func open(
        configuration: FlowConfiguration, logger: Logger, metricsFactory: any MetricsFactory
    ) async throws(MirrorError) -> FlowSession {
        let flow = configuration.flow
        let sourceAdmin: KafkaAdmin
        let targetAdmin: KafkaAdmin
        let producer: KafkaProducer
        let consumer: KafkaConsumer
        do {
            sourceAdmin = try KafkaAdmin(configuration: configuration.source.clientConfiguration(clientID: "switchback-admin"), logger: logger)
            targetAdmin = try KafkaAdmin(configuration: configuration.target.clientConfiguration(clientID: "switchback-admin"), logger: logger)
            producer = try KafkaProducer(configuration: configuration.producerConfiguration, logger: logger)
            consumer = try KafkaConsumer(configuration: configuration.consumerConfiguration, logger: logger)
        } catch {
            throw MirrorError(.kafka, "cannot create the Kafka clients of \(flow): \(error); check the bootstrap "
                + "servers and client properties", isRetriable: false)
        }
        let provisioner = TopicProvisioner(configuration: configuration, sourceAdmin: sourceAdmin, targetAdmin: targetAdmin, logger: logger)
        do {
            let mirrored = try await provisioner.reconcile()
            let (store, map) = try await OffsetMapStore.load(
                configuration: configuration, admin: targetAdmin, producer: producer, logger: logger)
            let session = FlowSession(
                configuration: configuration, logger: logger, sourceAdmin: sourceAdmin, targetAdmin: targetAdmin,
                producer: producer, consumer: consumer, store: store, map: map, metricsFactory: metricsFactory)
            try await session.add(mirrored)
            return session
        } catch {
            await producer.shutdown(timeout: .seconds(5))
            await consumer.close()
            throw error
        }
    }

    /// Adds topics and partitions not copied yet: finds their resume positions and assigns the
    /// whole set again (known partitions at the next offset the loop accepts).
    private func add(_ mirrored: [MirroredTopic]) async throws(MirrorError) {
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
            let start = max(resumes[partition] ?? low, low)
            positions[partition] = max(resumes[partition] ?? low, positions[partition] ?? 0)
            nextAccepted[partition] = start
        }
        var assignment: [KafkaClient.TopicPartition: StartOffset] = [:]
        for (partition, next) in nextAccepted { assignment[partition.kafka] = .offset(next.kafka) }
        do {
            try await consumer.assign(assignment)
        } catch {
            throw MirrorError(.kafka, "cannot assign the source partitions of \(configuration.flow): \(error)", isRetriable: true)
        }
        consumerPaused = false
        logger.info("\(configuration.flow): copying \(added.count) more partition(s); \(nextAccepted.count) in all")
    }

    private func sourceLogStart(_ partition: TopicPartition) async throws(MirrorError) -> Offset {
        do {
            return Offset(kafka: try await sourceAdmin.watermarks(of: partition.kafka).low)
        } catch {
            throw MirrorError(.kafka, "cannot read the log start of \(partition) on \(configuration.flow.source): \(error)",
                              isRetriable: true)
        }
    }

    /// Catches the offset map up from the target log and finds where each partition resumes.
    private func resumePositions(for partitions: [TopicPartition]) async throws(MirrorError) -> [TopicPartition: Offset] {
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

    // MARK: Copying

    /// Reads the source into the queue; runs in a task of its own beside the copy loop.
    struct SourceReader: Sendable {
        let consumer: KafkaConsumer
        let queue: RecordQueue
        let flow: FlowID

        /// Reads until cancelled or the consumer is closed.
        func run() async throws(MirrorError) {
            do {
                for try await record in consumer.records {
                    await queue.put(record)
                }
            } catch {
                throw MirrorError(.kafka, "reading the source of \(flow) failed: \(error)", isRetriable: true)
            }
        }
    }

    var reader: SourceReader { SourceReader(consumer: consumer, queue: queue, flow: configuration.flow) }

    /// Copies one batch taken from the queue: filters, builds the copies, hands them over.
    /// Waits for the oldest batch when too many are in flight.
    func copy(_ records: [KafkaRecord]) async throws(MirrorError) {
        let flow = configuration.flow
        var entries: [Entry] = []
        var copies: [ProducerRecord] = []
        entries.reserveCapacity(records.count)
        copies.reserveCapacity(records.count)
        for record in records {
            guard let source = TopicPartition(kafka: record.topicPartition), let topic = topics[source.topic] else { continue }
            let offset = Offset(kafka: record.offset)
            guard offset >= nextAccepted[source, default: 0] else { continue }
            nextAccepted[source] = Offset(offset.rawValue &+ 1)
            let headers = record.mirrorHeaders
            guard Provenance.shouldCopy(recordHeaders: headers, to: flow.target) else {
                entries.append(Entry(source: source, offset: offset, copied: false, bytes: 0, timestamp: nil))
                continue
            }
            let copyHeaders = Provenance.headersForCopy(
                existing: headers, sourceSite: flow.source, topic: source.topic, partition: source.partition, offset: offset)
            let bytes = (record.key?.count ?? 0) + (record.value?.count ?? 0)
                + headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
            entries.append(Entry(source: source, offset: offset, copied: true, bytes: bytes, timestamp: record.timestamp?.milliseconds))
            copies.append(ProducerRecord(
                topic: topic.target.kafka, partition: source.partition.kafka, key: record.key, value: record.value,
                headers: copyHeaders.map(\.kafka), timestamp: record.timestamp))
        }
        guard !entries.isEmpty else { return }
        let producer = self.producer
        let previous = inFlight.last?.task
        // Batches are handed over strictly in order (each after the one before is acknowledged):
        // concurrent sends could hand a later batch over first and reorder a partition. A batch
        // after a failed one is not sent at all, so a failure never leaves a gap behind copies.
        let task = Task { () throws -> [Result<DeliveredRecord, KafkaError>] in
            if let previous {
                for outcome in try await previous.value { _ = try outcome.get() }
            }
            return copies.isEmpty ? [] : try await producer.send(copies)
        }
        inFlight.append(InFlightBatch(entries: entries, task: task))
        while inFlight.count >= max(1, configuration.batching.maxInFlightBatches) {
            try await completeOldest()
        }
    }

    /// Waits for every batch in flight and records its deliveries.
    func completeAll() async throws(MirrorError) {
        while !inFlight.isEmpty { try await completeOldest() }
    }

    /// Records the oldest batch's deliveries in the offset map, in source order.
    private func completeOldest() async throws(MirrorError) {
        guard !inFlight.isEmpty else { return }
        let batch = inFlight.removeFirst()
        let results: [Result<DeliveredRecord, KafkaError>]
        do {
            results = try await batch.task.value
        } catch {
            throw MirrorError(.kafka, "the target producer of \(configuration.flow) failed: \(error)", isRetriable: true)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var resultIndex = 0
        var touched: Set<TopicPartition> = []
        for entry in batch.entries {
            touched.insert(entry.source)
            defer { positions[entry.source] = Offset(entry.offset.rawValue &+ 1) }
            guard entry.copied else { continue }
            guard resultIndex < results.count else {
                throw MirrorError(.kafka, "the producer returned fewer outcomes than records sent", isRetriable: true)
            }
            let result = results[resultIndex]
            resultIndex += 1
            let delivered: DeliveredRecord
            switch result {
            case .success(let record): delivered = record
            case .failure(let error):
                throw MirrorError(.kafka, "copying \(entry.source)@\(entry.offset) to \(configuration.flow.target) failed: "
                    + "\(error); the flow starts over from the target's last record", isRetriable: true)
            }
            guard delivered.partition.rawValue == entry.source.partition.rawValue else {
                throw MirrorError(.offsetMapConflict, "copy of \(entry.source)@\(entry.offset) landed in partition "
                    + "\(delivered.partition)", isRetriable: false)
            }
            try map.record(entry.source, sourceOffset: entry.offset, targetOffset: Offset(kafka: delivered.offset))
            let partitionMetrics = metrics.metrics(for: entry.source)
            partitionMetrics.records.increment()
            partitionMetrics.bytes.increment(by: entry.bytes)
            if let timestamp = entry.timestamp {
                partitionMetrics.lagTime.recordMilliseconds(max(0, now &- timestamp))
            }
        }
        for partition in touched {
            if let position = positions[partition] { map.advanceSourceEnd(partition, to: position) }
        }
    }

    /// Stores the offset map's changes: the internal topic, then the cache file.
    func storeMap() async throws(MirrorError) {
        try await completeAll()
        let updates = map.takeUpdates()
        try await store.store(updates)
        try store.compactIfLarge(map)
    }

    /// The source's log ends of the copied partitions.
    func sourceEnds() async throws(MirrorError) -> [TopicPartition: Offset] {
        var ends: [TopicPartition: Offset] = [:]
        for partition in nextAccepted.keys {
            do {
                ends[partition] = Offset(kafka: try await sourceAdmin.watermarks(of: partition.kafka).high)
            } catch {
                throw MirrorError(.kafka, "cannot read the end of \(partition) on \(configuration.flow.source): \(error)",
                                  isRetriable: true)
            }
        }
        return ends
    }

    /// Sets the lag gauges from the source's log ends.
    func updateLag(ends: [TopicPartition: Offset]) {
        for (partition, end) in ends {
            let position = positions[partition] ?? 0
            metrics.metrics(for: partition).lagRecords.record(max(0, end.rawValue &- position.rawValue))
        }
    }

    /// Takes what the source partitions newly hold into account: new selected topics and
    /// partitions are provisioned and copied.
    func reprovision() async throws(MirrorError) {
        let provisioner = TopicProvisioner(configuration: configuration, sourceAdmin: sourceAdmin, targetAdmin: targetAdmin, logger: logger)
        try await add(try await provisioner.reconcile())
    }

    /// Stops or restarts fetching from the source.
    func setPaused(_ paused: Bool) throws(MirrorError) {
        guard paused != consumerPaused else { return }
        let partitions = nextAccepted.keys.map(\.kafka)
        do {
            if paused { try consumer.pause(partitions) } else { try consumer.resume(partitions) }
        } catch {
            throw MirrorError(.kafka, "cannot \(paused ? "pause" : "resume") the source consumer: \(error)", isRetriable: true)
        }
        consumerPaused = paused
    }

    // MARK: Ending

    /// Waits for every acknowledgement, stores the map, closes everything.
    func finish() async throws(MirrorError) {
        queue.close()
        defer { store.close() }
        do {
            try await storeMap()
        } catch {
            await close()
            throw error
        }
        await close()
    }

    /// Ends without storing: after a failure or when cancelled (a kill). The producer is shut
    /// down before this returns, so nothing of this session lands on the target after a new
    /// session has read where to resume.
    func abandon() async {
        queue.close()
        for batch in inFlight { batch.task.cancel() }
        inFlight.removeAll()
        await close()
        store.close()
    }

    private func close() async {
        await consumer.close()
        await producer.shutdown(timeout: .seconds(10))
    }
}
