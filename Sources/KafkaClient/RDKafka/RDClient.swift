import CRdKafka
import Dispatch
import Logging
import Synchronization

/// Owns one `rd_kafka_t` and its main event queue, and drains that queue on a dedicated
/// thread: logs, errors and delivery reports arrive there as events, so no Swift code ever
/// runs on a librdkafka thread.
///
/// - Important: `rd_kafka_destroy` runs in `deinit`, once the last reference is gone, so a
///   call in progress can never use a destroyed handle. Stop the poller first
///   (``stopPolling()``); the poller holds a reference while it runs.
final class RDClient: @unchecked Sendable {  // librdkafka handles are thread-safe.
    enum Kind: Sendable {
        case producer, consumer

        var cType: rd_kafka_type_t { self == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER }
    }

    /// What the poll thread hands to the owner: delivery reports, in the order librdkafka
    /// produced them.
    typealias DeliveryHandler = @Sendable ([RDDeliveryReport]) -> Void

    let handle: OpaquePointer
    let logger: Logger
    private let mainQueue: OpaquePointer
    private let deliveryHandler: DeliveryHandler?
    private let state = Mutex(State())
    private let pollerStopped = DispatchSemaphore(value: 0)
    private let fatalRaised = Atomic(false)

    private struct State {
        var fatalError: KafkaError?
        var pollerRunning = false
        var stopRequested = false
    }

    init(
        kind: Kind, properties: [String: String], logger: Logger, deliveryHandler: DeliveryHandler? = nil
    ) throws(KafkaError) {
        var properties = properties
        // Logs go to the main queue as events, drained by our thread (see `poll`).
        properties["log.queue"] = "true"
        let conf = try RDConfiguration.make(properties)
        var events = RD_KAFKA_EVENT_LOG | RD_KAFKA_EVENT_ERROR
        if kind == .producer { events |= RD_KAFKA_EVENT_DR }
        rd_kafka_conf_set_events(conf, events)

        var errstr = [CChar](repeating: 0, count: 512)
        let created = errstr.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_new(kind.cType, conf, buffer.baseAddress, buffer.count)
        }
        guard let created else {
            // rd_kafka_new takes the conf over only when it succeeds.
            rd_kafka_conf_destroy(conf)
            throw KafkaError(
                code: .invalidArgument,
                message: "creating the librdkafka \(kind) failed: \(String(cBuffer: errstr)). "
                    + "Check the configuration (\(KafkaConfigurationRedaction.describe(properties))).",
                isRetriable: false)
        }
        self.handle = created
        self.logger = logger
        self.deliveryHandler = deliveryHandler
        // NULL forwards librdkafka's log queue to the main queue.
        rd_kafka_set_log_queue(created, nil)
        self.mainQueue = rd_kafka_queue_get_main(created)
    }

    deinit {
        // rd_kafka_destroy blocks (it joins librdkafka's threads), and the last reference may
        // be dropped on the cooperative pool, so the handle is destroyed on a dispatch thread.
        let owned = RDOwnedHandle(handle: handle, mainQueue: mainQueue)
        RDBlocking.shared.async { owned.destroy() }
    }

    /// The fatal error librdkafka raised, after which this client cannot be used.
    var fatalError: KafkaError? { state.withLock { $0.fatalError } }

    /// Whether a fatal error was raised; lock-free, for per-record checks.
    var hasFatalError: Bool { fatalRaised.load(ordering: .acquiring) }

    /// Starts the thread that drains the main queue. Call once.
    func startPolling() {
        state.withLock { $0.pollerRunning = true }
        DispatchQueue(label: "switchback.kafka.events").async { [self] in
            pollUntilStopped()
        }
    }

    /// Asks the poll thread to drain what is queued and stop, and waits until it has
    /// (blocking; call it off the cooperative pool).
    func stopPolling() {
        let wasRunning = state.withLock { state in
            let running = state.pollerRunning && !state.stopRequested
            state.stopRequested = true
            return running
        }
        if wasRunning { pollerStopped.wait() }
    }

    /// Asks the poll thread to stop without waiting (for `deinit` of the owner).
    func requestStop() {
        state.withLock { $0.stopRequested = true }
    }

    private func pollUntilStopped() {
        while !state.withLock({ $0.stopRequested }) {
            if let event = rd_kafka_queue_poll(mainQueue, 100) {
                handle(event)
            }
        }
        // Hand over what is still queued, so that no delivery report is lost.
        while let event = rd_kafka_queue_poll(mainQueue, 0) {
            handle(event)
        }
        pollerStopped.signal()
    }

    /// Handles and destroys one event.
    private func handle(_ event: OpaquePointer) {
        guard rd_kafka_event_type(event) != RD_KAFKA_EVENT_DR else {
            handleDeliveryReports(event)
            return
        }
        defer { rd_kafka_event_destroy(event) }
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_LOG:
            var facility: UnsafePointer<CChar>?
            var text: UnsafePointer<CChar>?
            var level: Int32 = 0
            guard rd_kafka_event_log(event, &facility, &text, &level) == 0 else { return }
            logger.log(
                level: RDLogLevel.loggerLevel(forSyslog: level),
                "\(text.map { String(cString: $0) } ?? "")",
                metadata: ["librdkafka.facility": "\(facility.map { String(cString: $0) } ?? "")"])
        case RD_KAFKA_EVENT_ERROR:
            handleError(event)
        default:
            logger.debug("ignoring librdkafka event \(String(cString: rd_kafka_event_name(event)))")
        }
    }

    private func handleError(_ event: OpaquePointer) {
        let code = rd_kafka_event_error(event)
        let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
        guard rd_kafka_event_error_is_fatal(event) != 0 else {
            logger.warning("librdkafka reported \(RDErrorCode.name(of: code.rawValue)): \(text)")
            return
        }
        var errstr = [CChar](repeating: 0, count: 512)
        let underlying = errstr.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_fatal_error(handle, buffer.baseAddress, buffer.count)
        }
        var error = RDErrorCode.error(
            underlying == RD_KAFKA_RESP_ERR_NO_ERROR ? code : underlying,
            while: "the Kafka client", detail: String(cBuffer: errstr).isEmpty ? text : String(cBuffer: errstr))
        error.isFatal = true
        error.isRetriable = false
        logger.critical("librdkafka raised a fatal error: \(error)")
        state.withLock { $0.fatalError = $0.fatalError ?? error }
        fatalRaised.store(true, ordering: .releasing)
    }

    /// Copies the reports out, destroys the event, then hands the reports over.
    ///
    /// The order matters: librdkafka counts a record against `queue.buffering.max.messages`
    /// until its report's event is destroyed, so a sender woken before that would find the
    /// queue still full and wait for a report that never comes.
    private func handleDeliveryReports(_ event: OpaquePointer) {
        var reports: [RDDeliveryReport] = []
        reports.reserveCapacity(rd_kafka_event_message_count(event))
        // The messages belong to the event; they are never destroyed one by one.
        while let message = rd_kafka_event_message_next(event) {
            reports.append(RDDeliveryReport(message))
        }
        rd_kafka_event_destroy(event)
        deliveryHandler?(reports)
    }
}

extension RDClient.Kind: CustomStringConvertible {
    var description: String { self == .producer ? "producer" : "consumer" }
}

/// An `rd_kafka_t` and its main queue on their way to being destroyed.
private struct RDOwnedHandle: @unchecked Sendable {  // moved once to the destroying thread.
    let handle: OpaquePointer
    let mainQueue: OpaquePointer

    func destroy() {
        rd_kafka_queue_destroy(mainQueue)
        rd_kafka_destroy(handle)
    }
}
