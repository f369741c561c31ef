import Foundation
import TestSupport

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
            _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            let stdin = try FileHandle(forReadingFrom: stdinURL)
            let stdout = try FileHandle(forWritingTo: stdoutURL)
            let stderr = try FileHandle(forWritingTo: stderrURL)
            defer {
                try? stdin.close()
                try? stdout.close()
                try? stderr.close()
            }

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardInput = stdin
            process.standardOutput = stdout
            process.standardError = stderr
            var environment = ProcessInfo.processInfo.environment
            environment["PYTHONUNBUFFERED"] = "1"
            process.environment = environment

            let (exits, exit) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
            process.terminationHandler = { finished in
                exit.yield(finished.terminationStatus)
                exit.finish()
            }
            do {
                try process.run()
            } catch {
                throw ChildProcessError(description: "cannot start `\(arguments.joined(separator: " "))`: \(error). Run script/bootstrap to install the compatibility clients.")
            }
            let pid = process.processIdentifier
            let timedOut = Flag()
            let watchdog = Task.detached {
                do {
                    try await Task.sleep(for: deadline)
                } catch {
                    return  // the process ended first
                }
                timedOut.set()
                kill(pid, SIGKILL)
            }
            var status: Int32 = -1
            for await exitStatus in exits { status = exitStatus }
            watchdog.cancel()
            return ChildProcessOutput(
                command: arguments.joined(separator: " "),
                status: status,
                stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "",
                timedOut: timedOut.isSet
            )
        }
    }
}
