import Dispatch
import Logging
import Synchronization

/// Reads records from Kafka, either from partitions assigned by hand with explicit start
/// positions, or as a member of a consumer group.
///
/// Iterate ``records`` to read. Commits take the *next offset to read* (the offset of the last
/// processed record plus one), as Kafka stores them.
///
/// - Important: Blocking librdkafka calls (polling, commit, committed, close, watermarks) run
///   on a serial dispatch queue of this consumer, never on Swift's cooperative pool. Call
///   ``close()`` when done.
public final class KafkaConsumer: Sendable {
    /// The settings this consumer was created with (secrets are masked when printed).
    public let configuration: KafkaConsumerConfiguration
    private let client: RDClient
    /// Serialises every blocking call, so `close` never overlaps a poll.
    private let queue = DispatchQueue(label: "switchback.kafka.consumer")
    private let closed = Mutex(false)
    /// An error met after some records of a batch, thrown once those records were handed out.
    private let pendingError = Mutex<KafkaError?>(nil)

    /// Creates a consumer and starts its event thread (logs and errors).
    /// - Throws: ``KafkaError`` naming the property librdkafka refused.
    public init(
        configuration: KafkaConsumerConfiguration,
        logger: Logger = Logger(label: "switchback.kafka.consumer")
    ) throws(KafkaError) {
        self.configuration = configuration
        var properties = configuration.librdkafkaProperties
        if properties["group.id"] == nil {
            // librdkafka refuses even manual assignment without a group id. This one is never
            // joined or committed to (commits require a configured group).
            properties["group.id"] = "switchback-unattached-\(UInt64.random(in: 0...UInt64.max))"
        }
        client = try RDClient(kind: .consumer, properties: properties, logger: logger)
        client.startPolling()
        logger.debug("created Kafka consumer: \(configuration)")
    }

    deinit {
        client.requestStop()
    }

    /// The records, in order per partition, until the consumer is closed or the iterating
    /// task is cancelled.
    public var records: KafkaConsumerRecords { KafkaConsumerRecords(consumer: self) }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { closed.withLock { $0 } }

    /// Reads the given partitions from the given positions, replacing any earlier assignment.
    /// Timestamps are resolved to offsets first.
    public func assign(_ starts: [TopicPartition: StartOffset], timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let client = self.client
        try await blocking { () throws(KafkaError) in
            var times: [TopicPartition: KafkaTimestamp] = [:]
            var offsets: [TopicPartition: Int64] = [:]
            for (partition, start) in starts {
                switch start {
                case .earliest: offsets[partition] = RDClient.offsetBeginning
                case .latest: offsets[partition] = RDClient.offsetEnd
                case .offset(let offset): offsets[partition] = offset.rawValue
                case .committed: offsets[partition] = RDClient.offsetStored
                case .timestamp(let time): times[partition] = time
                }
            }
            for (partition, offset) in try client.offsets(forTimes: times, timeout: timeout) {
                offsets[partition] = offset?.rawValue ?? RDClient.offsetEnd
            }
            try client.assign(offsets)
        }
    }

    /// Joins the configured consumer group and reads the partitions it assigns among `topics`.
    /// - Throws: if no ``KafkaConsumerConfiguration/groupID`` is set.
    public func subscribe(_ topics: [TopicName]) throws(KafkaError) {
        try requireGroup("subscribing")
        try checkOpen("subscribing")
        try client.subscribe(topics)
    }

    /// The partitions this consumer currently reads.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        try checkOpen("reading the assignment")
        return try client.assignment().sorted()
    }

    /// The next offset this consumer will hand out in each partition: the offset after the
    /// last record it returned. Partitions it has returned nothing from yet are absent.
    public func positions(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartition: Offset] {
        try checkOpen("reading positions")
        return try client.positions(partitions)
    }

    /// Stops fetching from these partitions until ``resume(_:)``; their position is kept.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try checkOpen("pausing partitions")
        try client.setPaused(partitions, paused: true)
    }

    /// Fetches again from partitions paused with ``pause(_:)``.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try checkOpen("resuming partitions")
        try client.setPaused(partitions, paused: false)
    }

    /// Commits, for the configured group, the next offset to read of each partition (the
    /// offset of the last processed record plus one: `record.offset.next`). Waits for the
    /// coordinator's answer.
    public func commit(nextOffsets: [TopicPartition: Offset]) async throws(KafkaError) {
        try requireGroup("committing offsets")
        guard !nextOffsets.isEmpty else { return }
        let client = self.client
        try await blocking { () throws(KafkaError) in try client.commit(nextOffsets) }
    }

    /// Commits the position right after `record` (its offset plus one).
    public func commit(after record: KafkaRecord) async throws(KafkaError) {
        try await commit(nextOffsets: [record.topicPartition: record.offset.next])
    }

    /// The group's committed next offset to read for each partition that has one.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicPartition: Offset]
    {
        try requireGroup("reading committed offsets")
        let client = self.client
        return try await blocking { () throws(KafkaError) in try client.committed(partitions, timeout: timeout) }
    }

    /// The log start and log end of a partition, asked of its leader.
    public func watermarks(of partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> Watermarks
    {
        let client = self.client
        return try await RDBlocking.run { () throws(KafkaError) in try client.watermarks(of: partition, timeout: timeout) }
    }

    /// The log end (high watermark) of each partition.
    public func endOffsets(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicPartition: Offset]
    {
        var result: [TopicPartition: Offset] = [:]
        for partition in partitions {
            result[partition] = try await watermarks(of: partition, timeout: timeout).high
        }
        return result
    }

    /// Leaves the group and stops. Reading ``records`` ends; later calls throw.
    /// Offsets committed before are kept by the group.
    public func close() async {
        let alreadyClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !alreadyClosed else { return }
        let client = self.client
        // On the serial queue, after any poll in progress.
        _ = try? await RDBlocking.run(on: queue) { () throws(KafkaError) in
            client.closeConsumer()
            client.stopPolling()
        }
    }

    /// Up to `maxRecordsPerPoll` records, waiting at most about 100 ms for the first.
    func poll() async throws(KafkaError) -> [KafkaRecord] {
        if let error = pendingError.withLock({ $0.take() }) { throw error }
        let client = self.client
        let limit = Swift.max(1, configuration.maxRecordsPerPoll)
        let (records, error) = try await RDBlocking.run(on: queue) { [self] () throws(KafkaError) in
            // Checked on the queue: once `close` ran, the handle must not be polled.
            if isClosed { return ([KafkaRecord](), KafkaError?.none) }
            return client.pollRecords(limit: limit)
        }
        guard let error else { return records }
        if records.isEmpty { throw error }
        pendingError.withLock { $0 = error }
        return records
    }

    /// Reads the next batch of records and, in the same step on the consumer's serial queue,
    /// the positions of every assigned partition (see ``KafkaConsumerBatch``). Empty when no
    /// record arrived within the poll interval, or once the consumer is closed.
    ///
    /// For readers that must know how far they have read even where no record is returned:
    /// the mirror counts offsets taken by transaction markers as dealt with this way.
    public func nextBatch() async throws(KafkaError) -> KafkaConsumerBatch {
        if let error = pendingError.withLock({ $0.take() }) { throw error }
        let client = self.client
        let limit = Swift.max(1, configuration.maxRecordsPerPoll)
        let (records, positions, error) = try await RDBlocking.run(on: queue) { [self] () throws(KafkaError) in
            if isClosed { return ([KafkaRecord](), [TopicPartition: Offset](), KafkaError?.none) }
            let (records, error) = client.pollRecords(limit: limit)
            // Read after the poll and before the next one: no record below these is still to come.
            let positions = (try? client.positions(client.assignment())) ?? [:]
            return (records, positions, error)
        }
        guard let error else { return KafkaConsumerBatch(records: records, positions: positions) }
        if records.isEmpty { throw error }
        pendingError.withLock { $0 = error }
        // The positions may already count records not returned because of the error.
        return KafkaConsumerBatch(records: records, positions: [:])
    }

    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        try checkOpen("this call")
        return try await RDBlocking.run(on: queue) { [self] () throws(KafkaError) in
            if isClosed { throw KafkaError.shutDown("a consumer call") }
            return try body()
        }
    }

    private func checkOpen(_ what: String) throws(KafkaError) {
        if isClosed { throw KafkaError.shutDown(what) }
    }

    private func requireGroup(_ what: String) throws(KafkaError) {
        guard configuration.groupID != nil else {
            throw KafkaError(
                code: .invalidArgument,
                message: "\(what) needs a consumer group; set KafkaConsumerConfiguration.groupID.",
                isRetriable: false)
        }
    }
}
