import Foundation
import KafkaClient
import Logging
import Metrics
import Synchronization

/// One connected run of a flow, from set-up to finish: its clients, its offset map, and the
/// copy loop. A failure ends the session; the ``Flow`` starts a new one, which finds its
/// positions again from the target (exactly-once resume), so a session keeps no state that a
/// restart needs.
///
/// Not `Sendable`: one task (the flow's copy loop) owns a session; what runs beside it (the
/// source reader, the lag probe, sends and map stores) gets only `Sendable` parts.
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

    private struct PendingBatch {
        var entries: [Entry] = []
        var copies: [ProducerRecord] = []
    }

    private struct InFlightBatch {
        var entries: [Entry]
        var task: Task<[Result<DeliveredRecord, KafkaError>], any Error>
        var completion: SendCompletion
    }

    /// Set when a send has its outcome, so the copy loop can check without waiting.
    private final class SendCompletion: Sendable {
        private let done = Mutex(false)
        var isDone: Bool { done.withLock { $0 } }
        func markDone() { done.withLock { $0 = true } }
    }

    let configuration: FlowConfiguration
    let logger: Logger
    let sourceAdmin: KafkaAdmin
    let targetAdmin: KafkaAdmin
    private let producer: KafkaProducer
    let consumer: KafkaConsumer
    private let store: OffsetMapStore
    let queue: RecordQueue
    var map: OffsetMap
    /// Source topic → its target topic and partition count.
    var topics: [TopicName: MirroredTopic] = [:]
    /// Next source offset dealt with (copied and acknowledged, or skipped), per source partition.
    var positions: [TopicPartition: Offset] = [:]
    /// Next source offset the copy loop accepts; lower ones are re-fetches after a reassignment.
    var nextAccepted: [TopicPartition: Offset] = [:]
    private var pending = PendingBatch()
    /// The offset-map store running in the background, if any.
    private var storing: (task: Task<Void, any Error>, completion: SendCompletion)?
    /// Reads the source's log ends for the lag gauges, beside the copy loop.
    let lagProbe: LagProbe
    private var inFlight: InFlightBatch?
    private var metrics: FlowMetrics
    var consumerPaused = false

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
        self.lagProbe = LagProbe(admin: sourceAdmin, interval: configuration.lagInterval)
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

    // MARK: Copying

    /// Reads the source into the queue; runs in a task of its own beside the copy loop.
    struct SourceReader: Sendable {
        let consumer: KafkaConsumer
        let queue: RecordQueue
        let flow: FlowID

        /// Reads until cancelled or the consumer is closed. A failure is handed to the copy
        /// loop through the queue (a child task's error would wait until the loop ends).
        func run() async {
            do {
                // Batches with positions rather than `consumer.records`: the positions tell the
                // copy loop where the consumer passed offsets that have no record.
                while !Task.isCancelled, !consumer.isClosed {
                    let batch = try await consumer.nextBatch()
                    for record in batch.records { await queue.put(record) }
                    if !batch.positions.isEmpty { queue.notePositions(batch.positions) }
                }
            } catch {
                queue.fail(MirrorError(.kafka, "reading the source of \(flow) failed: \(error)", isRetriable: true))
            }
        }
    }

    var reader: SourceReader { SourceReader(consumer: consumer, queue: queue, flow: configuration.flow) }

    /// Takes records from the queue into the next batch: filters, builds the copies. Sends
    /// when nothing is in flight; waits for the send in flight when the next batch is full.
    func copy(_ records: [KafkaRecord]) async throws(MirrorError) {
        let flow = configuration.flow
        for record in records {
            guard let source = TopicPartition(kafka: record.topicPartition), let topic = topics[source.topic] else { continue }
            let offset = Offset(kafka: record.offset)
            guard offset >= nextAccepted[source, default: 0] else { continue }
            nextAccepted[source] = Offset(offset.rawValue &+ 1)
            let headers = record.mirrorHeaders
            guard Provenance.shouldCopy(recordHeaders: headers, to: flow.target) else {
                pending.entries.append(Entry(source: source, offset: offset, copied: false, bytes: 0, timestamp: nil))
                continue
            }
            let copyHeaders = Provenance.headersForCopy(
                existing: headers, sourceSite: flow.source, topic: source.topic, partition: source.partition, offset: offset)
            let bytes = (record.key?.count ?? 0) + (record.value?.count ?? 0)
                + headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
            pending.entries.append(Entry(source: source, offset: offset, copied: true, bytes: bytes, timestamp: record.timestamp?.milliseconds))
            pending.copies.append(ProducerRecord(
                topic: topic.target.kafka, partition: source.partition.kafka, key: record.key, value: record.value,
                headers: copyHeaders.map(\.kafka), timestamp: record.timestamp))
        }
        try await pump()
    }

    /// Counts source offsets the consumer passed without returning a record as dealt with:
    /// transaction markers and, under read_committed, aborted records. Without this a partition
    /// ending in a marker would never reach its log end (a drain would wait forever) and a group
    /// committed after the marker would look "beyond mirrored" instead of caught up.
    ///
    /// Per partition, only when none of its records is queued, pending or in flight: then every
    /// record of it below the reader's noted position has been copied and recorded. Partition by
    /// partition, so a busy partition does not hold back one that ended in a marker.
    func accountForSkippedOffsets() {
        let marks = queue.positionsOfPartitionsWithNothingQueued()
        guard !marks.isEmpty else { return }
        var busy = Set(pending.entries.map(\.source))
        if let inFlight { busy.formUnion(inFlight.entries.map(\.source)) }
        for (kafkaPartition, mark) in marks {
            guard let partition = TopicPartition(kafka: kafkaPartition), topics[partition.topic] != nil,
                !busy.contains(partition), let current = positions[partition]
            else { continue }
            let next = Offset(kafka: mark)
            guard next > current, next >= nextAccepted[partition, default: 0] else { continue }
            positions[partition] = next
            // A re-fetch after a reassignment must not copy anything below it again.
            nextAccepted[partition] = next
            map.advanceSourceEnd(partition, to: next)
        }
    }

    /// Moves batches along without waiting unless the next batch is full: records the send in
    /// flight once it has finished, and starts the next one when there is none.
    func pump() async throws(MirrorError) {
        if let inFlight, inFlight.completion.isDone { try await completeInFlight() }
        if inFlight != nil, pending.entries.count >= max(1, configuration.batching.maxBatchRecords) {
            try await completeInFlight()
        }
        if inFlight == nil { dispatch() }
    }

    /// Sends everything taken so far and records every delivery.
    func completeAll() async throws(MirrorError) {
        while inFlight != nil || !pending.entries.isEmpty {
            if inFlight == nil { dispatch() }
            try await completeInFlight()
        }
    }

    /// Starts sending the pending batch.
    ///
    /// One send at a time: `KafkaProducer.send` hands records over and waits for their reports
    /// in one call, so two concurrent sends could hand a later batch over first and reorder a
    /// partition — and exactly-once resume rests on target order. While a send is in flight the
    /// next batch grows with whatever arrives, so batches adapt to the link's round trip.
    private func dispatch() {
        guard inFlight == nil, !pending.entries.isEmpty else { return }
        let batch = pending
        pending = PendingBatch()
        let producer = self.producer
        let completion = SendCompletion()
        let queue = self.queue
        let task = Task { () throws -> [Result<DeliveredRecord, KafkaError>] in
            defer {
                completion.markDone()
                queue.wake()
            }
            return batch.copies.isEmpty ? [] : try await producer.send(batch.copies)
        }
        inFlight = InFlightBatch(entries: batch.entries, task: task, completion: completion)
    }

    /// Waits for the send in flight and records its deliveries in the offset map, in source order.
    private func completeInFlight() async throws(MirrorError) {
        guard let batch = inFlight else { return }
        inFlight = nil
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

    /// Starts storing the offset map's new changes (internal topic, then cache file) in the
    /// background, so the copy loop never waits for it; skipped while the previous store runs.
    /// - Throws: the previous store's failure.
    func storeMapInBackground() async throws(MirrorError) {
        if let storing {
            guard storing.completion.isDone else { return }
            try await waitForStore()
        }
        let updates = map.takeUpdates()
        guard !updates.isEmpty else { return }
        let store = self.store
        let snapshot = map
        let completion = SendCompletion()
        let task = Task { () throws -> Void in
            defer { completion.markDone() }
            try await store.store(updates)
            try store.compactIfLarge(snapshot)
        }
        storing = (task, completion)
    }

    /// Stores every change now, after any store in the background.
    func storeMap() async throws(MirrorError) {
        try await waitForStore()
        try await store.store(map.takeUpdates())
        try store.compactIfLarge(map)
    }

    private func waitForStore() async throws(MirrorError) {
        guard let storing else { return }
        self.storing = nil
        do {
            try await storing.task.value
        } catch let error as MirrorError {
            throw error
        } catch {
            throw MirrorError(.storage, "storing the offset map of \(configuration.flow) failed: \(error)", isRetriable: true)
        }
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

    /// Drops from the offset map what retention deleted at the source: a position there is gone
    /// (a group at it resets), so its mapping is no use, and without this the map and its topic
    /// grew without end under sources that make many ranges (one per transaction).
    func pruneBelowSourceLogStarts() {
        for (partition, start) in lagProbe.latestStarts where start > map[partition].prunedBelow {
            // Never past what was dealt with: a start beyond it is a log the flow has not read yet.
            map.prune(partition, belowSource: min(start, map[partition].accountedEnd))
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
            try await completeAll()
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
        inFlight?.task.cancel()
        inFlight = nil
        pending = PendingBatch()
        await close()
        // A store still running must end before the next session opens the cache file.
        try? await waitForStore()
        store.close()
    }

    private func close() async {
        await consumer.close()
        await producer.shutdown(timeout: .seconds(10))
    }
}
