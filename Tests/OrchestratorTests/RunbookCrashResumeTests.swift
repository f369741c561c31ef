import Foundation
import Orchestrator
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real process killed with SIGKILL in the middle of a step, then the same command again:
/// `switchback runbook run-file` resumes from the journal at the step it was in, and no step
/// that ended is run again.
@Suite("Runbook crash-resume", .timeLimit(.minutes(2)))
struct RunbookCrashResumeTests {
    static func executable() throws -> String {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let candidates = [
            testBinary.deletingLastPathComponent().appendingPathComponent("switchback").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/switchback").path,
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CrashTestFailure("no switchback executable at \(candidates); run swift build --build-tests first")
        }
        return found
    }

    struct CrashTestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A runbook of three exec steps that append to `log`; the second blocks until `release` exists.
    static func runbook(idempotent: Bool) -> String {
        """
        name: crash
        description: three steps, the second blocks until released
        parameters:
          log: {}
          release: {}
        steps:
          - id: one
            action: exec
            params: { command: sh, args: ["-c", "echo one >> \\"$0\\"", "${params.log}"] }
          - id: two
            action: exec
            params: { command: sh, args: ["-c", "echo two >> \\"$0\\"; while [ ! -e \\"$1\\" ]; do sleep 0.05; done", "${params.log}", "${params.release}"] }
            idempotent: \(idempotent)
          - id: three
            action: exec
            params: { command: sh, args: ["-c", "echo three >> \\"$0\\"", "${params.log}"] }

        """
    }

    static func start(_ arguments: [String], stdin: String? = nil) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return (process, output)
    }

    /// Waits off the cooperative pool for the process to exit, within `deadline`.
    static func exitStatus(_ process: Process, within deadline: Duration = .seconds(60)) async throws -> Int32 {
        let end = ContinuousClock.now + deadline
        while process.isRunning {
            guard ContinuousClock.now < end else {
                process.terminate()
                throw CrashTestFailure("switchback did not exit within \(deadline)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("killed inside a step marked idempotent: the rerun starts at that step; the step before it is not run again", arguments: [true, false])
    func killedInsideAStep(idempotent: Bool) async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("crash.yaml").path
            try Self.runbook(idempotent: idempotent).write(toFile: file, atomically: true, encoding: .utf8)
            let log = directory.appendingPathComponent("log").path
            let release = directory.appendingPathComponent("release").path
            let data = directory.appendingPathComponent("data").path
            let arguments = ["runbook", "run-file", file, "--data-dir", data, "--param", "log=\(log)", "--param", "release=\(release)"]

            let (first, _) = try Self.start(arguments)
            // Wait (deadline, not sleep-as-sync) until step two is inside its program.
            let end = ContinuousClock.now + .seconds(60)
            while Self.lines(log) != ["one", "two"] {
                guard ContinuousClock.now < end, first.isRunning else {
                    first.terminate()
                    throw CrashTestFailure("step two never started; log: \(Self.lines(log))")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            kill(first.processIdentifier, SIGKILL)
            _ = try await Self.exitStatus(first)
            let journalDirectory = data + "/runbooks"
            let journalName = try #require(try FileManager.default.contentsOfDirectory(atPath: journalDirectory).first)
            let events = try RunJournal.read(path: journalDirectory + "/" + journalName)
            #expect(events.last == .stepStarted(step: "two", attempt: 1), "the journal ends inside step two")

            FileManager.default.createFile(atPath: release, contents: nil)
            // Not idempotent: the resumed run asks whether the interrupted step took effect; the
            // operator (on the terminal) says it did: skip.
            let (second, output) = try Self.start(arguments, stdin: idempotent ? nil : "skip\n")
            let status = try await Self.exitStatus(second)
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(status == 0, "second run output: \(printed)")
            #expect(printed.contains("resuming run") && printed.contains("at step two"))
            #expect(Self.lines(log) == (idempotent ? ["one", "two", "two", "three"] : ["one", "two", "three"]))
            let after = try RunJournal.read(path: journalDirectory + "/" + journalName)
            #expect(after.filter { if case .stepStarted("one", _) = $0 { true } else { false } }.count == 1, "step one ran once")
            if case .finished(let result) = after.last { #expect(result.status == .succeeded) } else { Issue.record("the journal does not end finished") }
        }
    }
}
