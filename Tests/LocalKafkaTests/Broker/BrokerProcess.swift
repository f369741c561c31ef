import Foundation
import Spawning
import Testing

#if canImport(Glibc)
import Glibc
#endif

#if os(Linux)
// Linux only: the broker executable is found through /proc and stopped with Glibc signals.

/// `switchback broker` running as a real child process of the test, for tests that kill it.
///
/// The executable is the one `swift build` put next to the test bundle
/// (`.build/<triple>/<configuration>/switchback`). `swift test` builds every product of the
/// package before running tests, and CI (`.ci/run`) runs `swift build` first as well, so the
/// binary is there and current; when it is not, the test fails saying to run `swift build`.
final class BrokerProcess: Sendable {
    let process: SpawnedProcess
    /// `host:port` for clients, parsed from the ready line.
    let bootstrapServers: String
    /// The broker's standard error (its log), kept for failure messages.
    let logFile: URL

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The built `switchback` executable.
    static func executable() throws -> URL {
        var candidates: [URL] = []
        // The test bundle's directory is the build products directory of this configuration.
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(testBinary.deletingLastPathComponent().appendingPathComponent("switchback"))
        // macOS runs tests inside an .xctest bundle one level deeper; fall back to the package root.
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/switchback"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw Failure(description: "no switchback executable at \(candidates.map(\.path)); run `swift build` before `swift test`")
        }
        return found
    }

    /// Starts `switchback broker` on a free loopback port and waits (up to `deadline`) for its
    /// ready line, off the cooperative pool (in-process brokers of other tests need it).
    static func start(dataDirectory: URL, fsync: String = "always", deadline: Duration = .seconds(30)) async throws -> BrokerProcess {
        try await offThePool {
            Result { try BrokerProcess(dataDirectory: dataDirectory, fsync: fsync, deadline: deadline) }
        }.get()
    }

    private init(dataDirectory: URL, fsync: String, deadline: Duration) throws {
        logFile = dataDirectory.deletingLastPathComponent()
            .appendingPathComponent("\(dataDirectory.lastPathComponent)-broker-\(UUID().uuidString.prefix(6)).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw Failure(description: "cannot create the broker log file \(logFile.path)")
        }
        process = try SpawnedProcess.spawn(
            try Self.executable().path,
            ["broker", "--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path, "--fsync", fsync, "--log-level", "info"],
            output: .pipe, error: .append(logFile.path))
        guard let output = process.standardOutput else { throw Failure(description: "the broker has no output pipe") }
        let line = try Self.readLine(from: output, deadline: ContinuousClock.now + deadline)
        let prefix = "LocalKafka serving on "
        guard let line, line.hasPrefix(prefix) else {
            process.send(SIGTERM)
            process.waitUntilExit()
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            throw Failure(description: "broker did not print its ready line (got \(line ?? "nothing")); its log:\n\(log)")
        }
        let address = line.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
        bootstrapServers = address
    }

    /// Reads one line, waiting on the descriptor with `poll` until `deadline`.
    private static func readLine(from handle: FileHandle, deadline: ContinuousClock.Instant) throws -> String? {
        var bytes: [UInt8] = []
        let descriptor = handle.fileDescriptor
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&pollDescriptor, 1, max(1, milliseconds))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            var byte: UInt8 = 0
            let count = read(descriptor, &byte, 1)
            if count <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// Sends `signal` and waits for the process to exit.
    func stop(with signal: Int32) async {
        await offThePool {
            self.process.send(signal)
            self.process.waitUntilExit()
        }
    }

    /// Kills the process if it still runs (cleanup after a failed test).
    func ensureStopped() {
        guard process.isRunning else { return }
        process.send(SIGKILL)
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
}
#endif
