import Foundation
import Spawning
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `exec`: runs a program with arguments (no shell), checks its exit status and captures the
/// start of its output (bounded), e.g. a site-specific DNS switch or a smoke test.
///
/// Not idempotent by default — the engine cannot know what a program does — so a crash inside
/// it stops the run for an operator; mark the step `idempotent: true` when the program is safe
/// to run twice.
public struct ExecAction: StepAction {
    public let name = "exec"
    /// How many bytes of standard output and error are kept.
    public static let outputLimit = 16 * 1024

    public init() {}

    public var idempotency: StepIdempotency { .once }

    public var parameterSpecs: [StepParameterSpec]? {
        [
            .init("command", required: true, "the program: an absolute path, or a name looked up in PATH"),
            .init("args", "its arguments, as a YAML list (items cannot contain commas)"),
            .init("expect_exit", "the exit status that means success (default 0)"),
        ]
    }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        let command = try context.parameters.string("command")
        let resolved = Self.resolve(command)
        let arguments = context.parameters.list("args")
        return StepPlan(
            summary: "run \(([command] + arguments).joined(separator: " "))",
            checks: [.init("\(command) is executable", satisfied: resolved != nil, detail: resolved ?? "not found in PATH or not executable")],
            changes: ["whatever \(command) does"])
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let command = try context.parameters.string("command")
        let expected = try context.parameters.int("expect_exit", default: 0)
        let result = try await Self.execute(command, context.parameters.list("args"))
        let outputs = ["exit_status": String(result.status), "output": result.output, "ok": String(result.status == expected)]
        guard result.status == expected else {
            throw StepActionError(
                .failed, "\(command) exited with status \(result.status), expected \(expected); its output: \(result.output.suffix(500))", retriable: true)
        }
        return StepOutcome(summary: "\(command) exited with status \(result.status)", outputs: outputs)
    }

    /// The absolute path of `command`, looked up in PATH unless it contains a `/`.
    static func resolve(_ command: String) -> String? {
        let manager = FileManager.default
        if command.contains("/") { return manager.isExecutableFile(atPath: command) ? command : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(command)" }.first { manager.isExecutableFile(atPath: $0) }
    }

    /// Runs the program to its end; cancellation (the step's timeout) terminates it, then kills
    /// it if it has not gone 2 s later.
    static func execute(_ command: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        guard let executable = resolve(command) else {
            throw StepActionError(.invalidParameter, "parameter 'command' is '\(command)', which is not an executable file (nor found in PATH)", retriable: false)
        }
        let child: SpawnedProcess
        do {
            child = try SpawnedProcess.spawn(executable, arguments, output: .pipe, error: .sameAsOutput)
        } catch {
            throw StepActionError(.failed, "\(error)", retriable: false)
        }
        // Drained to the end on a thread of its own (a full pipe would stop the program), only the
        // first `outputLimit` bytes kept.
        let captured = Mutex((data: Data(), ended: false))
        if let output = child.standardOutput {
            let reader = Thread {
                while case let chunk = output.availableData, !chunk.isEmpty {
                    captured.withLock { if $0.data.count < outputLimit { $0.data.append(chunk.prefix(outputLimit - $0.data.count)) } }
                }
                captured.withLock { $0.ended = true }
            }
            reader.name = "switchback.runbook.exec"
            reader.start()
        }
        let termination = await withTaskCancellationHandler {
            await child.terminated()
        } onCancel: {
            child.send(SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { child.send(SIGKILL) }
        }
        // A program that left a child of its own holding the pipe open would keep the end of
        // output away for ever: what it wrote within a second of exiting is what is reported.
        let drained = ContinuousClock.now + .seconds(1)
        while !captured.withLock({ $0.ended }), ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let status = termination.status
        try Task.checkCancellation()
        let output = String(decoding: captured.withLock { $0.data }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (status, output)
    }
}
