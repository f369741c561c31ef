import Consensus
import Foundation
import Orchestrator
import Testing
import TestSupport

/// The engine with real journal files and a manual clock; the actions are scripted fakes.
@Suite("Runbook runner", .timeLimit(.minutes(1)))
struct RunbookRunnerTests {
    struct Lab {
        let directory: URL
        let clock = ManualClock()
        let notices = NoticeLog()
        var actions: [ScriptedAction]

        func runner() throws -> RunbookRunner {
            RunbookRunner(
                runbooksDirectory: directory.appendingPathComponent("library").path, dataDirectory: directory.path,
                registry: try StepActionRegistry(actions + [ConfirmAction()]), clock: clock, currentEpoch: { Epoch(7) }, sink: notices.sink)
        }

        func write(_ name: String, _ yaml: String) throws {
            let folder = directory.appendingPathComponent("library")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try yaml.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }

    }

    /// Waits (on a deadline, not a sleep) until `condition` holds for the runner's status.
    /// The deadline is generous because every step is journaled with fsync, which a busy disk
    /// can stall for seconds.
    static func eventually(_ runner: RunbookRunner, _ what: String, _ condition: @escaping @Sendable (RunStatus?) -> Bool) async throws -> RunStatus? {
        let deadline = ContinuousClock.now + .seconds(60)
        var status = await runner.status()
        while !condition(status) {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what); status: \(String(describing: status))")
                return status
            }
            status = await runner.waitForChange(from: status)
        }
        return status
    }

    @Test("a step over its timeout is cancelled and retried; attempts and the timed-out error are journaled")
    func timeout() async throws {
        try await withTemporaryDirectory { directory in
            let slow = ScriptedAction("slow", [.block])
            let lab = Lab(directory: directory, actions: [slow])
            try lab.write("t", "name: t\ndescription: t\nsteps:\n  - id: s\n    action: slow\n    timeout: 5s\n    retries: 1\n    backoff: 2s\n")
            let runner = try lab.runner()
            _ = try await runner.start("t", parameters: [:], assumeYes: false, by: "test")
            // Attempt 1 sleeps (3600 s) beside the 5 s timeout; then a 2 s back-off; then attempt 2
            // and its timeout. Sleeps have absolute deadlines, so advancing once a sleep has been
            // asked for is race-free.
            try await Self.waitForSleeps(lab.clock, 2)
            lab.clock.advance(by: .seconds(5))
            try await Self.waitForSleeps(lab.clock, 3)
            #expect(lab.clock.requestedSleeps.last == .seconds(2), "the back-off")
            lab.clock.advance(by: .seconds(2))
            try await Self.waitForSleeps(lab.clock, 5)
            lab.clock.advance(by: .seconds(5))
            let status = try await Self.eventually(runner, "the run to finish") { $0?.state == .finished }
            #expect(status?.result?.status == .failed)
            #expect(status?.steps.first?.attempts == 2)
            #expect(status?.steps.first?.error?.code == .timedOut)
            #expect(slow.runs == 2)
        }
    }

    /// Waits until `count` sleeps have been asked of the clock.
    static func waitForSleeps(_ clock: ManualClock, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while clock.requestedSleeps.count < count {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            await Task.yield()
        }
    }

    @Test("a dry run plans every step and changes nothing: no action runs, no journal is written")
    func dryRunChangesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let fence = ScriptedAction("fence-site")
            let lab = Lab(directory: directory, actions: [fence, ScriptedAction("probe")])
            try lab.write("t", """
                name: t
                description: t
                parameters:
                  site: { default: dc-a }
                steps:
                  - id: p
                    action: probe
                  - id: f
                    action: fence-site
                    params: { site: "${params.site}" }
                    when: steps.p.healthy == true
                  - id: g
                    action: fence-site
                    params: { site: "${steps.p.site}" }
                """)
            let runner = try lab.runner()
            let plan = try await runner.plan("t", parameters: [:])
            #expect(plan.epoch == Epoch(7))
            #expect(plan.steps.map(\.id) == ["p", "f", "g"])
            #expect(plan.steps[0].plan?.checks.first?.satisfied == true)
            #expect(plan.steps[1].decision.hasPrefix("decided at run time"))
            #expect(plan.steps[1].plan?.summary.contains("dc-a") == true)
            #expect(plan.steps[2].note?.contains("earlier steps' outputs") == true)
            #expect(fence.runs == 0 && fence.plans == 1)
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/runbooks"), "no journal directory, no journal")
            #expect(await runner.status() == nil)
        }
    }

    @Test("a second run is refused while one is in progress, naming it; an operator's yes lets the first go on")
    func secondRunRefusedAndConfirm() async throws {
        try await withTemporaryDirectory { directory in
            let promote = ScriptedAction("promote")
            let lab = Lab(directory: directory, actions: [promote])
            try lab.write("t", "name: t\ndescription: t\nsteps:\n  - id: go\n    action: promote\n    confirm: true\n")
            let runner = try lab.runner()
            let first = try await runner.start("t", parameters: [:], assumeYes: false, by: "alice")
            _ = try await Self.eventually(runner, "the question") { $0?.state == .waiting }
            do {
                _ = try await runner.start("t", parameters: [:], assumeYes: true, by: "bob")
                Issue.record("a second run started")
            } catch {
                #expect((error as? RunbookError)?.code == .busy)
                #expect("\(error)".contains(first.runID) && "\(error)".contains("step go"))
            }
            #expect(promote.runs == 0, "nothing runs before the answer")
            await #expect(throws: RunbookError.self) { try await runner.answer(step: "other", .yes, by: "carol") }
            try await runner.answer(step: "go", .yes, by: "carol")
            let done = try await Self.eventually(runner, "the run to finish") { $0?.state == .finished }
            #expect(done?.result?.status == .succeeded && promote.runs == 1)
            #expect(lab.notices.all.contains { $0.kind == .confirmationNeeded && $0.alert })
            #expect(lab.notices.all.contains { $0.kind == .confirmed && $0.message.contains("carol") })
            let kinds = lab.notices.all.map(\.kind)
            #expect(kinds.first == .runStarted && kinds.last == .runFinished && kinds.contains(.stepStarted) && kinds.contains(.stepSucceeded))
        }
    }

    @Test("after a restart the interrupted run resumes at its step: an idempotent action is re-run, ended steps are not")
    func resumeInProcess() async throws {
        try await withTemporaryDirectory { directory in
            let first = ScriptedAction("probe")
            let stuck = ScriptedAction("stop-flow", [.block])
            let lab = Lab(directory: directory, actions: [first, stuck, ScriptedAction("promote")])
            try lab.write("t", "name: t\ndescription: t\nsteps:\n  - id: a\n    action: probe\n  - id: b\n    action: stop-flow\n  - id: c\n    action: promote\n")
            let before = try lab.runner()
            _ = try await before.start("t", parameters: [:], assumeYes: false, by: "test")
            _ = try await Self.eventually(before, "step b to start") { $0?.steps[1].state == .running }
            await before.shutdown()

            let restartedActions = [ScriptedAction("probe"), ScriptedAction("stop-flow"), ScriptedAction("promote")]
            let after = Lab(directory: directory, actions: restartedActions)
            let runner = try after.runner()
            let resumed = try await runner.resumeInterrupted()
            #expect(resumed?.currentStep == "b")
            let done = try await Self.eventually(runner, "the resumed run to finish") { $0?.state == .finished }
            #expect(done?.result?.status == .succeeded)
            #expect(restartedActions.map(\.runs) == [0, 1, 1], "a ran once, before the restart")
            #expect(first.runs == 1)
            #expect(try await runner.resumeInterrupted() == nil, "a finished journal is not resumed")
        }
    }
}
