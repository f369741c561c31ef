import Alerts
import AsyncHTTPClient
import Foundation
import Logging
import TestSupport

/// An alert with a distinct id per `number`.
func sampleAlert(_ number: Int, kind: AlertKind = .failover, severity: AlertSeverity = .critical) -> Alert {
    Alert(
        kind: kind, severity: severity, agent: "dc-b", site: "dc-b", epoch: 3, message: "alert number \(number)",
        time: Date(timeIntervalSince1970: 1_790_000_000 + Double(number)))
}

/// A delivery loop for `endpoint` over real HTTP, paced by `clock`, with the jitter fixed at
/// one half; runs `body` with it started and stops it (pending alerts stay on disk) afterwards.
func withDelivery<T>(
    endpoint: WebhookEndpoint, directory: URL, clock: ManualClock, maximumPending: Int = 1000,
    timeout: Duration = .seconds(5), logger: Logger = Logger(label: "test.alerts"),
    _ body: (WebhookDelivery) async throws -> T
) async throws -> T {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    let outbox = try AlertOutbox(directory: directory.appendingPathComponent(endpoint.outboxName).path, maximumPending: maximumPending, logger: logger)
    let delivery = WebhookDelivery(
        endpoint: endpoint, outbox: outbox, transport: HTTPWebhookTransport(client: client), clock: clock,
        backoff: RetryBackoff(initial: .seconds(1), maximum: .seconds(8)), random: { 0.5 },
        now: { Date(timeIntervalSince1970: 1_790_000_100) }, timeout: timeout, logger: logger)
    let task = Task { await delivery.run() }
    func stop() async {
        task.cancel()
        await task.value
        try? await client.shutdown()
    }
    do {
        let result = try await body(delivery)
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}
