import Foundation
import LocalKafka
import Spawning

#if canImport(Glibc)
import Glibc
#endif

/// A LocalKafka broker in a child process (this executable's `bench-broker` subcommand), with
/// its resident memory readable from `/proc`.
final class BenchBrokerProcess {
    let bootstrapServers: String
    private let process: SpawnedProcess
    private let dataDirectory: URL

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the broker on a fresh data directory and waits for its ready line.
    /// - Parameter advertisedPort: the port clients are told to connect to (a ``LinkProxy`` in
    ///   front of the broker), or `nil` for the broker's own.
    init(fsync: FsyncPolicy, advertisedPort: Int? = nil) throws {
        dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchback-bench-\(fsync.rawValue)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        guard let executable = Bundle.main.executableURL else {
            throw StartFailure(description: "cannot find this executable to start the benchmark broker")
        }
        // Its standard input is the lifeline: the broker stops when it closes.
        process = try SpawnedProcess.spawn(
            executable.path, ["bench-broker", "--data-dir", dataDirectory.path, "--fsync", fsync.rawValue]
                + (advertisedPort.map { ["--advertised-port", String($0)] } ?? []),
            input: .pipe, output: .pipe)
        guard let output = process.standardOutput else {
            throw StartFailure(description: "the benchmark broker has no output pipe")
        }
        // Blocking reads are fine here: the benchmark does nothing else until the broker is up.
        var text = ""
        while !text.contains("\n") {
            let chunk = output.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix(BenchBrokerCommand.readyPrefix) else {
            process.send(SIGTERM)
            throw StartFailure(description: "the benchmark broker did not start; it printed: \(text)")
        }
        bootstrapServers = String(line.dropFirst(BenchBrokerCommand.readyPrefix.count))
    }

    /// Resident memory of the broker process in bytes (`VmRSS` in `/proc/<pid>/status`), or nil
    /// where `/proc` is not available.
    var residentBytes: Int? { Self.residentBytes(pid: processIdentifier) }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Resident memory of process `pid` in bytes, or nil where `/proc` is not available.
    static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            return nil
        }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// Stops the broker (closing its standard input lets it shut down cleanly) and removes its data.
    func stop() {
        try? process.standardInput?.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

/// The highest resident memory of a broker seen while some work runs, sampled every 20 ms.
func peakResidentBytes<T>(of broker: BenchBrokerProcess, during work: () async throws -> T) async rethrows -> (T, Int?) {
    let pid = broker.processIdentifier
    let sampler = Task {
        var peak: Int?
        while !Task.isCancelled {
            if let now = BenchBrokerProcess.residentBytes(pid: pid) { peak = max(peak ?? 0, now) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return peak
    }
    do {
        let result = try await work()
        sampler.cancel()
        let samplePeak = await sampler.value
        let final = broker.residentBytes
        return (result, [samplePeak, final].compactMap { $0 }.max())
    } catch {
        sampler.cancel()
        throw error
    }
}
