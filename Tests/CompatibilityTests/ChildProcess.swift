import Foundation
import Spawning
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What a finished child process left behind.
struct ChildProcessOutput: Sendable, CustomStringConvertible {
    var command: String
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the process was killed because it outlived its deadline.
    var timedOut: Bool

    /// The last non-empty line of stdout: where the suite scripts print their JSON summary.
    var lastLine: String? {
        stdout.split(separator: "\n").last(where: { !$0.allSatisfy(\.isWhitespace) }).map(String.init)
    }

    var description: String {
        let stderrTail = stderr.split(separator: "\n").suffix(60).joined(separator: "\n")
        return "`\(command)` exited with \(status)\(timedOut ? " (killed: deadline passed)" : "")\nstdout:\n\(stdout.suffix(4000))\nstderr (tail):\n\(stderrTail)"
    }
}

struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
}

/// Runs independent Kafka clients (kcat, python3) as real child processes of the test.
enum ChildProcess {
    /// Runs `arguments` through `/usr/bin/env` (so `python3` and `kcat` are found on `PATH`),
    /// with `input` as stdin, and returns when it exits.
    ///
    /// A process still running at `deadline` is killed with SIGKILL (by its pid) and reported
    /// with `timedOut`, so a hung client fails its test instead of hanging the run. Output goes
    /// to files rather than pipes so a chatty client can never block on a full pipe.
    static func run(_ arguments: [String], input: Data = Data(), deadline: Duration) async throws -> ChildProcessOutput {
        try await withTemporaryDirectory(prefix: "compat-process") { directory in
            let stdinURL = directory.appendingPathComponent("stdin")
            let stdoutURL = directory.appendingPathComponent("stdout")
            let stderrURL = directory.appendingPathComponent("stderr")
            try input.write(to: stdinURL)
            var environment = ProcessInfo.processInfo.environment
            environment["PYTHONUNBUFFERED"] = "1"
            let process: SpawnedProcess
            do {
                process = try SpawnedProcess.spawn(
                    "/usr/bin/env", arguments, environment: environment,
                    input: .file(stdinURL.path), output: .append(stdoutURL.path), error: .append(stderrURL.path))
            } catch {
                throw ChildProcessError(description: "cannot start `\(arguments.joined(separator: " "))`: \(error). Run script/bootstrap to install the compatibility clients.")
            }
            let timedOut = !(await process.terminated(within: deadline))
            if timedOut { process.send(SIGKILL) }
            let status = await process.terminated().status
            return ChildProcessOutput(
                command: arguments.joined(separator: " "),
                status: status,
                stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "",
                timedOut: timedOut
            )
        }
    }
}
