import Foundation
import LocalKafka
import Synchronization
import TestSupport

/// An in-process LocalKafka broker whose log is recorded and whose serving task is watched,
/// so tests can assert what it logged and that it never stopped on its own.
final class RecordedBroker: Sendable {
    let broker: LocalKafkaBroker
    let log: LogRecorder
    private let stopReason = Mutex<String?>(nil)

    private init(broker: LocalKafkaBroker, log: LogRecorder) {
        self.broker = broker
        self.log = log
    }

    /// Why `run()` ended while the test still needed it, or nil while it serves.
    var unexpectedStop: String? { stopReason.withLock { $0 } }

    private func noteStop(_ reason: String) {
        stopReason.withLock { $0 = $0 ?? reason }
    }

    var bootstrapServers: String { broker.bootstrapServers }
    var controlEndpoint: String { broker.controlEndpoint ?? "" }

    /// Runs `body` against a fresh broker on free loopback ports with a control endpoint.
    static func with<T>(
        configure: (inout BrokerConfiguration) -> Void = { _ in },
        _ body: (RecordedBroker) async throws -> T
    ) async throws -> T {
        try await withTemporaryDirectory(prefix: "recorded-broker") { directory in
            var configuration = BrokerConfiguration(dataDirectory: directory, port: 0)
            configure(&configuration)
            let log = LogRecorder()
            let broker = try await LocalKafkaBroker.start(configuration: configuration, controlPort: 0, logger: log.logger())
            let recorded = RecordedBroker(broker: broker, log: log)
            let running = Task {
                do {
                    try await broker.run()
                    recorded.noteStop("run() returned")
                } catch {
                    recorded.noteStop("run() threw \(error)")
                }
            }
            defer { running.cancel() }
            let result = try await body(recorded)
            running.cancel()
            await running.value
            return result
        }
    }
}
