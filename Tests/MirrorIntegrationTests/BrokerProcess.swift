import Foundation
import KafkaClient
import Spawning
import TestSupport

/// A `switchback broker` (LocalKafka) running as a child process of the test, so it can be
/// killed as a datacenter dies: SIGKILL, no flush, no goodbye to its clients.
final class BrokerProcess {
    let bootstrap: String
    let log: URL
    private let process: SpawnedProcess

    /// The `switchback` executable of this build (`.build/debug/switchback` of the package).
    static var executable: URL {
        get throws {
            // …/Tests/MirrorIntegrationTests/BrokerProcess.swift → the package root.
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let candidate = root.appendingPathComponent(".build/debug/switchback")
            guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
                throw BrokerProcessError(description: "\(candidate.path) is missing; run swift build first")
            }
            return candidate
        }
    }

    /// Starts a broker on a free loopback port with its data in `dataDirectory`, logging to `log`,
    /// and returns once it answers a metadata request.
    static func start(dataDirectory: URL, log: URL) async throws -> BrokerProcess {
        let port = try freeLoopbackPort()
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = try SpawnedProcess.spawn(
            try executable.path,
            ["broker", "--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory.path, "--no-auto-create", "--log-level", "warning"],
            output: .append(log.path), error: .append(log.path))
        let broker = BrokerProcess(bootstrap: "127.0.0.1:\(port)", log: log, process: process)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { break }
            if (try? await admin(broker.bootstrap).listTopics(timeout: .seconds(1))) != nil { return broker }
            try await Task.sleep(for: .milliseconds(50))
        }
        broker.kill()
        throw BrokerProcessError(description: "the broker on port \(port) did not answer within 30 s; its log: \(log.path)")
    }

    private init(bootstrap: String, log: URL, process: SpawnedProcess) {
        self.bootstrap = bootstrap
        self.log = log
        self.process = process
    }

    var isRunning: Bool { process.isRunning }

    /// SIGKILL by pid, then waits until it is gone.
    func kill() {
        process.send(SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}

struct BrokerProcessError: Error, CustomStringConvertible {
    var description: String
}
