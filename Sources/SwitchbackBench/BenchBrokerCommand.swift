import ArgumentParser
import Foundation
import LocalKafka
import Logging

/// The broker side of `localkafka`: this executable run again as a child process, so the
/// broker's memory is measured apart from the clients' and the bench needs no other binary
/// (`swift run switchback-bench` builds only this product).
///
/// It serves until its standard input closes, which happens when the parent exits for any
/// reason, so a crashed benchmark leaves no broker behind.
struct BenchBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-broker",
        abstract: "Serve LocalKafka for the localkafka benchmark (started by it; not for direct use).",
        shouldDisplay: false
    )

    /// Printed, followed by the bootstrap address, once the broker accepts connections.
    static let readyPrefix = "BENCH-BROKER READY "

    @Option(help: "Directory for the broker's data.")
    var dataDir: String

    @Option(help: "fsync policy: always or interval.")
    var fsync: FsyncPolicy = .always

    @Option(help: "Port to advertise in metadata (clients then connect through a proxy listening there).")
    var advertisedPort: Int?

    func run() async throws {
        var logger = Logger(label: "localkafka.bench")
        logger.logLevel = .error
        var configuration = BrokerConfiguration(
            dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true), port: 0, fsync: fsync
        )
        configuration.advertisedPort = advertisedPort
        let broker = try await LocalKafkaBroker.start(configuration: configuration, logger: logger)
        FileHandle.standardOutput.write(Data((Self.readyPrefix + broker.bootstrapServers + "\n").utf8))
        let serving = Task { try await broker.run() }
        await Self.standardInputClosed()
        serving.cancel()
        _ = try? await serving.value
    }

    /// Returns once standard input reaches its end; the read blocks a thread of its own, not
    /// the cooperative pool.
    private static func standardInputClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let reader = Thread {
                _ = FileHandle.standardInput.readDataToEndOfFile()
                continuation.resume()
            }
            reader.start()
        }
    }
}

extension FsyncPolicy: ExpressibleByArgument {}
