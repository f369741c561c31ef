import Logging

/// Sends records to Kafka through librdkafka's idempotent producer.
///
/// Each send returns when the record's delivery report arrives: with its partition and offset,
/// or with the error that stopped it. Call ``shutdown(timeout:)`` when done: it waits for
/// every record already handed over, so nothing the producer acknowledged is lost.
///
/// - Important: Delivery reports, logs and errors are drained from librdkafka's event queue by
///   a thread of this producer; no Swift code runs on librdkafka's own threads.
public final class KafkaProducer: Sendable {
    /// The settings this producer was created with (secrets are masked when printed).
    public let configuration: KafkaProducerConfiguration
    private let client: RDClient
    private let tracker: DeliveryTracker

    /// Creates a producer and starts its event thread.
    /// - Throws: ``KafkaError`` naming the property librdkafka refused.
    public init(
        configuration: KafkaProducerConfiguration,
        logger: Logger = Logger(label: "switchback.kafka.producer")
    ) throws(KafkaError) {
        let tracker = DeliveryTracker()
        self.configuration = configuration
        self.tracker = tracker
        self.client = try RDClient(
            kind: .producer, properties: configuration.librdkafkaProperties, logger: logger,
            deliveryHandler: { reports in tracker.deliver(reports) })
        client.startPolling()
        logger.debug("created Kafka producer: \(configuration)")
    }

    deinit {
        // Without a shutdown, records still queued are lost; the owner was told.
        if tracker.close(KafkaError.shutDown("sending a record")) {
            client.logger.warning("KafkaProducer released without shutdown(); undelivered records are dropped")
        }
        client.requestStop()
    }

    /// Sends one record and waits for its delivery report.
    /// - Returns: where Kafka stored it.
    /// - Throws: ``KafkaError`` with the topic and partition; `isRetriable` tells whether the
    ///   same send may succeed later (for example after a broker came back).
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> DeliveredRecord {
        guard let outcome = try await send([record]).first else {
            throw KafkaError.shutDown("sending a record")
        }
        return try outcome.get()
    }

    /// Sends records in order and waits for all of their delivery reports.
    ///
    /// Each record keeps its own outcome: one failing does not fail the others. While
    /// librdkafka's queue is full (``KafkaProducerConfiguration/maxQueuedRecords``) the call
    /// waits for deliveries to make room.
    ///
    /// - Important: Cancelling the calling task does not withdraw records already handed over;
    ///   the call still waits for their reports, so none is left with an unknown outcome.
    /// - Returns: one outcome per record, in the order given.
    /// - Throws: only when the producer cannot send at all (shut down, or a fatal error).
    public func send(_ records: [ProducerRecord]) async throws(KafkaError) -> [Result<DeliveredRecord, KafkaError>] {
        if let fatal = client.fatalError { throw fatal }
        if let reason = tracker.closedReason { throw reason }
        guard records.count <= DeliveryTracker.maxBatchCount else {
            throw KafkaError(
                code: .invalidArgument, message: "one send takes at most \(DeliveryTracker.maxBatchCount) records; split the batch.",
                isRetriable: false)
        }
        let batch = tracker.openBatch(count: records.count)
        for (index, record) in records.enumerated() {
            while true {
                let generation = tracker.generation
                if handOver(record, batch: batch, index: index) { break }
                await tracker.waitForRoom(after: generation)
            }
        }
        return await tracker.outcomes(of: batch)
    }

    /// Hands one record to librdkafka, or settles its outcome if it cannot be sent.
    /// - Returns: false when librdkafka's queue is full and the record should be tried again.
    private func handOver(_ record: ProducerRecord, batch: UInt32, index: Int) -> Bool {
        if client.hasFatalError, let fatal = client.fatalError {
            tracker.settle(batch: batch, index: index, .failure(fatal.on(record.topic, record.partition)))
            return true
        }
        if let reason = tracker.closedReason {
            tracker.settle(batch: batch, index: index, .failure(reason.on(record.topic, record.partition)))
            return true
        }
        do {
            try client.produce(record, opaque: DeliveryTracker.opaque(batch: batch, index: index))
            tracker.recordHandedOver()
            return true
        } catch where error.code == .queueFull {
            return false
        } catch {
            tracker.settle(batch: batch, index: index, .failure(error))
            return true
        }
    }

    /// The librdkafka client, for the transactional calls (`KafkaProducer+Transactions`).
    var transactionalClient: RDClient { client }

    /// Makes librdkafka raise a fatal error, for tests of what callers see afterwards.
    func raiseFatalErrorForTesting(_ code: KafkaError.Code, reason: String) {
        client.raiseFatalErrorForTesting(code, reason: reason)
    }

    /// The number of records sent whose delivery report has not arrived yet.
    public var inFlightCount: Int { tracker.inFlight }

    /// Waits until every record handed over so far has its delivery report.
    /// - Throws: ``KafkaError/Code/timedOut`` if some are still outstanding after `timeout`.
    public func flush(timeout: Duration) async throws(KafkaError) {
        let client = self.client
        try await RDBlocking.run { () throws(KafkaError) in try client.flush(timeout: timeout) }
    }

    /// Stops the producer without losing what it acknowledged: refuses new sends, waits up to
    /// `timeout` for the records already handed over, then purges what is left (those sends
    /// fail with an error saying their outcome is unknown) and stops the event thread.
    public func shutdown(timeout: Duration = .seconds(30)) async {
        let closing = KafkaError(
            code: .destroyed,
            message: "the producer is shutting down and accepts no more records; send through a new producer.",
            isRetriable: false)
        guard tracker.close(closing) else { return }
        let client = self.client
        let logger = client.logger
        _ = try? await RDBlocking.run { () throws(KafkaError) in
            do {
                try client.flush(timeout: timeout)
            } catch {
                logger.warning("producer shutdown: \(error); purging what is left")
                client.purgeUndelivered(timeout: .seconds(5))
            }
            client.stopPolling()
        }
        tracker.failAll(
            KafkaError(
                code: .destroyed,
                message: "the producer shut down before this record's delivery report arrived; it may or may not "
                    + "be stored. Read the partition's end to check before sending it again.",
                isRetriable: true))
    }
}
