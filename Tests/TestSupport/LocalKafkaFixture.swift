import Foundation
import LocalKafka
import Logging

/// Runs `body` with a fresh directory under the system's temporary directory, removed afterwards
/// (also when `body` throws).
public func withTemporaryDirectory<T>(
    prefix: String = "switchback-test",
    _ body: (URL) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Runs `body` against a LocalKafka broker listening on a free loopback port, with its data in
/// a temporary directory; the broker is stopped cleanly and its data removed afterwards.
///
/// - Parameters:
///   - configure: adjusts the broker configuration (the data directory and port are set).
///   - control: whether to serve the HTTP control endpoint (fault injection) on a free port.
public func withLocalKafka<T>(
    configure: (inout BrokerConfiguration) -> Void = { _ in },
    control: Bool = false,
    logLevel: Logger.Level = .warning,
    _ body: (LocalKafkaBroker) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory(prefix: "localkafka") { directory in
        var configuration = BrokerConfiguration(dataDirectory: directory, port: 0)
        configure(&configuration)
        configuration.dataDirectory = directory
        var logger = Logger(label: "localkafka-test")
        logger.logLevel = logLevel
        let broker = try await LocalKafkaBroker.start(
            configuration: configuration, controlPort: control ? 0 : nil, logger: logger
        )
        let running = Task { try await broker.run() }
        do {
            let result = try await body(broker)
            running.cancel()
            _ = try? await running.value
            return result
        } catch {
            running.cancel()
            _ = try? await running.value
            throw error
        }
    }
}
