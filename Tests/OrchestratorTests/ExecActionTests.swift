import Consensus
import Foundation
import Orchestrator
import Testing

/// The `exec` step runs a real program: its exit status decides, its output is kept (bounded),
/// and the step's timeout (a cancelled task) stops it.
@Suite("exec step")
struct ExecActionTests {
    static func context(_ parameters: StepParameters) -> StepContext {
        StepContext(runID: "test", runbook: "r", step: "s", parameters: parameters, epoch: Epoch(1))
    }

    @Test func theExitStatusDecidesAndTheOutputIsKept() async throws {
        let ok = try await ExecAction().run(Self.context(["command": "/bin/sh", "args": "-c,echo out; echo err >&2; exit 4", "expect_exit": "4"]))
        #expect(ok.outputs["exit_status"] == "4")
        #expect(ok.outputs["output"] == "out\nerr")
        await #expect(throws: StepActionError.self) {
            _ = try await ExecAction().run(Self.context(["command": "false"]))
        }
        await #expect(throws: StepActionError.self) {
            _ = try await ExecAction().run(Self.context(["command": "/no/such/program"]))
        }
    }

    @Test func outputBeyondTheLimitIsDrainedButNotKept() async throws {
        // Four times the limit: a program blocked on a full pipe would never exit.
        let bytes = ExecAction.outputLimit * 4
        let outcome = try await ExecAction().run(Self.context(["command": "/bin/sh", "args": "-c,head -c \(bytes) /dev/zero | tr '\\\\0' x"]))
        #expect(outcome.outputs["output"]?.count == ExecAction.outputLimit)
    }

    @Test func cancellingTheStepStopsTheProgram() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("exec-\(UUID().uuidString)").path
        defer { unlink(marker) }
        let step = Task {
            try await ExecAction().run(Self.context(["command": "/bin/sh", "args": "-c,echo $$ > \(marker); exec sleep 60"]))
        }
        var pid: Int32?
        let deadline = ContinuousClock.now + .seconds(20)
        while pid == nil, ContinuousClock.now < deadline {
            pid = (try? String(contentsOfFile: marker, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try await Task.sleep(for: .milliseconds(20))
        }
        let program = try #require(pid, "the program never started")
        step.cancel()
        await #expect(throws: CancellationError.self) { _ = try await step.value }
        // Reaped by the step: the pid is gone.
        #expect(kill(program, 0) != 0)
    }
}
