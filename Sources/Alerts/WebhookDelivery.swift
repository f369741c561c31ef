import Foundation
import Logging

/// Delivers one webhook's outbox in order: the oldest alert is retried until the receiver
/// takes it (or refuses it for good) before the next is sent.
///
/// - Important: an alert is removed from the outbox only after a 2xx answer (or a 4xx that
///   retrying cannot fix), so a stop or crash mid-delivery sends it again after the restart:
///   receivers see each alert at least once and can drop repeats by its `id`.
public final class WebhookDelivery: Sendable {
    public let endpoint: WebhookEndpoint
    public let outbox: AlertOutbox
    private let transport: any WebhookTransport
    private let clock: any Clock<Duration>
    private let backoff: RetryBackoff
    private let random: @Sendable () -> Double
    private let now: @Sendable () -> Date
    private let timeout: Duration
    private let logger: Logger
    private let files: FileQueue
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    /// - Parameters:
    ///   - clock: paces retries (a manual clock in tests).
    ///   - random: in [0, 1], for the back-off's jitter.
    ///   - now: wall-clock time for signature timestamps.
    ///   - timeout: the longest wait for one answer.
    public init(
        endpoint: WebhookEndpoint, outbox: AlertOutbox, transport: any WebhookTransport, clock: any Clock<Duration>,
        backoff: RetryBackoff = RetryBackoff(), random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        now: @escaping @Sendable () -> Date = { Date() }, timeout: Duration = .seconds(10), logger: Logger
    ) {
        self.endpoint = endpoint
        self.outbox = outbox
        self.transport = transport
        self.clock = clock
        self.backoff = backoff
        self.random = random
        self.now = now
        self.timeout = timeout
        var logger = logger
        logger[metadataKey: "webhook"] = "\(endpoint)"
        self.logger = logger
        files = FileQueue(label: "switchback.alerts.\(endpoint.outboxName)")
        (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the loop that the outbox has something new.
    public func notify() { wakeUp.yield() }

    /// Stores `alert` durably and wakes the loop.
    public func enqueue(_ alert: Alert) async throws(AlertError) {
        let outbox = self.outbox
        let result = await files.run { () -> Result<Void, AlertError> in
            do throws(AlertError) {
                try outbox.append(alert)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        notify()
    }

    /// Delivers until cancelled; what is pending then stays on disk for the next start.
    public func run() async {
        var wakeUps = self.wakeUps.makeAsyncIterator()
        let outbox = self.outbox
        var unreadable = 0
        while !Task.isCancelled {
            let head = await files.run { () -> Result<OutboxEntry?, AlertError> in
                do throws(AlertError) { return .success(try outbox.oldest()) } catch { return .failure(error) }
            }
            let entry: OutboxEntry?
            switch head {
            case .success(let found):
                entry = found
                unreadable = 0
            case .failure(let error):
                // Out of descriptors or an I/O error: the entry stays; try again after a pause.
                unreadable += 1
                let delay = backoff.delay(retry: unreadable, random: random())
                logger.warning("alert outbox unreadable for now; retrying", metadata: ["error": "\(error)", "in": "\(delay)"])
                do { try await clock.sleep(for: delay) } catch { return }
                continue
            }
            guard let entry else {
                guard await wakeUps.next() != nil else { return }
                continue
            }
            guard await deliver(entry) else { return }
            await files.run { outbox.remove(entry) }
        }
    }

    /// Tries until the receiver answers for good; `false` when cancelled first.
    private func deliver(_ entry: OutboxEntry) async -> Bool {
        var retry = 0
        while !Task.isCancelled {
            let verdict: DeliveryVerdict
            do {
                let request = try endpoint.request(for: entry.alert, now: now())
                verdict = DeliveryVerdict(status: try await transport.post(request, timeout: timeout))
            } catch let error as AlertError {
                logger.error("cannot build the webhook request; dropping the alert", metadata: ["alert": "\(entry.alert.id)", "error": "\(error)"])
                return true
            } catch {
                verdict = .retry("\(error)")
            }
            if Task.isCancelled { return false }
            switch verdict {
            case .delivered:
                logger.debug("alert delivered", metadata: ["alert": "\(entry.alert.id)"])
                return true
            case .rejected(let status):
                logger.error(
                    "webhook refused the alert with HTTP \(status); dropping it (check the webhook's url and secret)",
                    metadata: ["alert": "\(entry.alert.id)"])
                return true
            case .retry(let reason):
                retry += 1
                let delay = backoff.delay(retry: retry, random: random())
                logger.warning(
                    "alert delivery failed; retrying",
                    metadata: ["alert": "\(entry.alert.id)", "reason": "\(reason)", "retry": "\(retry)", "in": "\(delay)"])
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    return false
                }
            }
        }
        return false
    }
}
