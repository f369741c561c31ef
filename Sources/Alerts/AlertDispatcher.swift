import Foundation
import Logging
import ServiceLifecycle

/// Hands every alert to each webhook's outbox, in the order raised, and runs their deliveries.
///
/// `raise` never blocks or fails its caller (the election must not wait for a receiver or a
/// disk): alerts are queued in memory and written to the outboxes by `run()`, one after another.
/// Alerts raised after `run()` ends are lost; those written before it ends are delivered after
/// the next start.
public final class AlertDispatcher: Service, Sendable {
    public let deliveries: [WebhookDelivery]
    private let logger: Logger
    private let raised: AsyncStream<Alert>
    private let input: AsyncStream<Alert>.Continuation

    public init(deliveries: [WebhookDelivery], logger: Logger) {
        self.deliveries = deliveries
        self.logger = logger
        (raised, input) = AsyncStream.makeStream(of: Alert.self)
    }

    /// Queues `alert` for every webhook.
    public func raise(_ alert: Alert) { input.yield(alert) }

    /// Pending alerts per webhook (its redacted description), for status pages.
    public var depths: [(webhook: String, pending: Int)] {
        deliveries.map { ("\($0.endpoint)", $0.outbox.depth) }
    }

    /// Stores raised alerts and delivers them until shut down gracefully (under a `ServiceGroup`)
    /// or cancelled.
    public func run() async {
        await cancelWhenGracefulShutdown { await self.deliver() }
    }

    /// Stores raised alerts and delivers them until the task is cancelled, ignoring graceful
    /// shutdown: for an owner that stops its parts itself once its own shutdown is done (the
    /// agent keeps raising alerts while its HTTP server drains).
    public func deliver() async {
        await withTaskGroup(of: Void.self) { group in
            for delivery in self.deliveries { group.addTask { await delivery.run() } }
            group.addTask { await self.store() }
            await group.next()
            group.cancelAll()
        }
    }

    private func store() async {
        let logger = self.logger
        await withTaskCancellationHandler {
            for await alert in raised {
                for delivery in deliveries {
                    do {
                        try await delivery.enqueue(alert)
                    } catch {
                        logger.error("cannot store an alert; it will not be delivered", metadata: ["alert": "\(alert.id)", "error": "\(error)"])
                    }
                }
            }
        } onCancel: { [input] in
            input.finish()
        }
    }
}
