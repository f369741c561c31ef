import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `switchback broker` running as a real child process of the test, for tests that kill it.
///
/// The executable is the one `swift build` put next to the test bundle
/// (`.build/<triple>/<configuration>/switchback`). `swift test` builds every product of the
/// package before running tests, and CI (`.ci/run`) runs `swift build` first as well, so the
/// binary is there and current; when it is not, the test fails saying to run `swift build`.
final class BrokerProcess: @unchecked Sendable {
    let process: Process
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

    /// Starts `switchback broker` and waits for its ready line on a thread of its own: the wait
    /// blocks, and a blocked cooperative thread would stall every broker in the test process.
    static func start(
        dataDirectory: URL, fsync: String = "always", extraArguments: [String] = [], deadline: Duration = .seconds(30)
    ) async throws -> BrokerProcess {
        try await offCooperativePool {
            try BrokerProcess(dataDirectory: dataDirectory, fsync: fsync, extraArguments: extraArguments, deadline: deadline)
        }
    }

    /// Starts `switchback broker` on a free loopback port and waits (up to `deadline`) for its
    /// ready line.
    init(dataDirectory: URL, fsync: String = "always", extraArguments: [String] = [], deadline: Duration = .seconds(30)) throws {
        process = Process()
        process.executableURL = try Self.executable()
        process.arguments = [
            "broker", "--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path, "--fsync", fsync, "--log-level", "info",
        ] + extraArguments
        logFile = dataDirectory.deletingLastPathComponent()
            .appendingPathComponent("\(dataDirectory.lastPathComponent)-broker-\(UUID().uuidString.prefix(6)).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw Failure(description: "cannot create the broker log file \(logFile.path)")
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let line = try Self.readLine(from: output.fileHandleForReading, deadline: ContinuousClock.now + deadline)
        let prefix = "LocalKafka serving on "
        guard let line, line.hasPrefix(prefix) else {
            process.terminate()
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

    /// Sends `signal` and waits (off the cooperative pool) for the process to exit.
    func stop(with signal: Int32) async {
        _ = try? await offCooperativePool { self.stopBlocking(with: signal) }
    }

    private func stopBlocking(with signal: Int32) {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Kills the process if it still runs (cleanup after a failed test).
    func ensureStopped() {
        if process.isRunning { stopBlocking(with: SIGKILL) }
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
}
