import Alerts
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import Testing
import TestSupport

@Suite("The alert dispatcher", .timeLimit(.minutes(1)))
struct AlertDispatcherTests {
    @Test("every raised alert reaches every webhook in order, and graceful shutdown leaves the rest on disk")
    func fanOutAndShutdown() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                var logger = Logger(label: "test.alerts")
                logger.logLevel = .warning
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                let endpoints = [
                    try WebhookEndpoint(url: receiver.url, format: .generic, secret: nil),
                    try WebhookEndpoint(url: receiver.url + "?copy=2", format: .generic, secret: nil),
                ]
                let deliveries = try endpoints.map { endpoint in
                    WebhookDelivery(
                        endpoint: endpoint,
                        outbox: try AlertOutbox(directory: directory.appendingPathComponent(endpoint.outboxName).path, logger: logger),
                        transport: HTTPWebhookTransport(client: client), clock: ManualClock(), random: { 0.5 }, logger: logger)
                }
                let dispatcher = AlertDispatcher(deliveries: deliveries, logger: logger)
                let group = ServiceGroup(services: [dispatcher], gracefulShutdownSignals: [], logger: logger)
                let running = Task { try await group.run() }
                for number in 1...3 { dispatcher.raise(sampleAlert(number)) }
                #expect(await eventually { receiver.accepted.count == 6 })
                let expected = (1...3).map { sampleAlert($0).id.rawValue }
                let copies = receiver.accepted.filter { $0.uri.contains("copy=2") }
                let originals = receiver.accepted.filter { !$0.uri.contains("copy=2") }
                #expect(copies.map(\.alertID) == expected)
                #expect(originals.map(\.alertID) == expected)
                #expect(await eventually { dispatcher.depths.allSatisfy { $0.pending == 0 } })
                #expect(dispatcher.depths.map(\.webhook) == ["generic http://127.0.0.1:\(URL(string: receiver.url)!.port!)/…", "generic http://127.0.0.1:\(URL(string: receiver.url)!.port!)/…"])

                // A receiver that fails: the alert waits in both outboxes across the shutdown.
                receiver.script([.status(500), .status(500)])
                dispatcher.raise(sampleAlert(4))
                #expect(await eventually { receiver.deliveries.count == 8 })
                await group.triggerGracefulShutdown()
                try await running.value
                #expect(dispatcher.depths.map(\.pending) == [1, 1])
                try await client.shutdown()
            }
        }
    }
}
