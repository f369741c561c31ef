import Consensus
import Foundation
import Orchestrator
import Testing

/// The run's state machine alone: events in, actions out, no I/O.
@Suite("Runbook run state machine")
struct RunbookRunTests {
    static func run(_ steps: [Step], compensations: [Step] = [], yes: Bool = false) -> RunbookRun {
        let runbook = Runbook(name: "t", description: "t", steps: steps, compensations: compensations)
        let start = RunStart(runID: "r", runbook: "t", source: "", parameters: ["to": "dc-b"], epoch: Epoch(4), assumeYes: yes, startedAt: Date(), startedBy: "test")
        return RunbookRun(start: start, runbook: runbook)
    }

    static let transient = StepActionError(.failed, "broker unreachable", retriable: true)

    @Test("a retriable failure is retried with doubling back-off, then the run aborts at that step")
    func retriesThenAbort() throws {
        var run = Self.run([Step(id: "a", action: "probe", retries: 2, backoff: .milliseconds(500)), Step(id: "b", action: "probe")])
        var delays: [Duration] = []
        for attempt in 1...3 {
            guard case .run(let invocation) = run.next() else { Issue.record("expected a run"); return }
            #expect(invocation.attempt == attempt && invocation.epoch == Epoch(4))
            run.apply(.stepStarted(step: "a", attempt: attempt))
            run.apply(.stepFailed(step: "a", attempt: attempt, error: Self.transient))
            if case .backoff(_, let delay) = run.next() {
                delays.append(delay)
                run.retryDue()
            }
        }
        #expect(delays == [.milliseconds(500), .seconds(1)])
        guard case .finish(let result) = run.next() else { Issue.record("expected the run to finish"); return }
        #expect(result.status == .failed && result.step == "a")
        #expect(run.records["b"]?.state == .pending)
    }

    @Test("a non-retriable failure is not retried")
    func notRetriable() {
        var run = Self.run([Step(id: "a", action: "promote", retries: 5)])
        run.apply(.stepStarted(step: "a", attempt: 1))
        run.apply(.stepFailed(step: "a", attempt: 1, error: StepActionError(.staleEpoch, "old", retriable: false)))
        guard case .finish(let result) = run.next() else { Issue.record("expected finish"); return }
        #expect(result.status == .failed)
    }

    @Test("when false skips the step; when over an earlier step's outputs is decided after it ran")
    func when() throws {
        var run = Self.run([
            Step(id: "probe", action: "probe"),
            Step(id: "fence", action: "fence-site", when: try Condition(parsing: "steps.probe.healthy == true")),
            Step(id: "notify", action: "notify", when: try Condition(parsing: "params.to == 'dc-b'")),
        ])
        run.apply(.stepStarted(step: "probe", attempt: 1))
        run.apply(.stepSucceeded(step: "probe", attempt: 1, outcome: StepOutcome(summary: "down", outputs: ["healthy": "false"])))
        guard case .skip(let step, _) = run.next() else { Issue.record("expected a skip"); return }
        #expect(step == "fence")
        run.apply(.stepSkipped(step: "fence", reason: "false"))
        guard case .run(let invocation) = run.next() else { Issue.record("expected notify to run"); return }
        #expect(invocation.step.id == "notify")
    }

    @Test("on_failure continue goes on; compensate runs the compensation, then the run fails naming the step")
    func failurePolicies() {
        var run = Self.run(
            [Step(id: "a", action: "fence-site", onFailure: .continue), Step(id: "b", action: "drain", onFailure: .compensate("undo")), Step(id: "c", action: "promote")],
            compensations: [Step(id: "undo", action: "unfence-site")])
        run.apply(.stepStarted(step: "a", attempt: 1))
        run.apply(.stepFailed(step: "a", attempt: 1, error: Self.transient))
        guard case .run(let b) = run.next(), b.step.id == "b" else { Issue.record("expected b"); return }
        run.apply(.stepStarted(step: "b", attempt: 1))
        run.apply(.stepFailed(step: "b", attempt: 1, error: Self.transient))
        guard case .run(let undo) = run.next(), undo.step.id == "undo" else { Issue.record("expected the compensation"); return }
        run.apply(.stepStarted(step: "undo", attempt: 1))
        run.apply(.stepSucceeded(step: "undo", attempt: 1, outcome: StepOutcome(summary: "unfenced")))
        guard case .finish(let result) = run.next() else { Issue.record("expected finish"); return }
        #expect(result.status == .failed && result.step == "b" && result.summary.contains("compensation undo ran"))
        #expect(run.records["c"]?.state == .pending, "c never ran")
    }

    @Test("confirm waits for an answer; no aborts the run; --yes answers automatically")
    func confirm() {
        var run = Self.run([Step(id: "go", action: "promote", confirm: true)])
        guard case .confirm("go", _, false) = run.next() else { Issue.record("expected a question"); return }
        run.apply(.answered(step: "go", answer: .no, by: "alice"))
        guard case .finish(let result) = run.next() else { Issue.record("expected finish"); return }
        #expect(result.status == .aborted && result.summary.contains("alice"))

        var automatic = Self.run([Step(id: "go", action: "promote", confirm: true)], yes: true)
        guard case .confirm("go", _, true) = automatic.next() else { Issue.record("expected an automatic question"); return }
        automatic.apply(.answered(step: "go", answer: .yes, by: "--yes"))
        guard case .run = automatic.next() else { Issue.record("expected the step to run"); return }
    }

    @Test("replay: steps that ended are not run again; the interrupted one is checked, or re-run when idempotent: true")
    func replay() {
        let steps = [Step(id: "a", action: "exec"), Step(id: "b", action: "exec"), Step(id: "c", action: "exec", idempotent: true)]
        let base = Self.run(steps)
        let started = RunEvent.started(base.start)
        let journal: [RunEvent] = [
            started, .stepStarted(step: "a", attempt: 1), .stepSucceeded(step: "a", attempt: 1, outcome: StepOutcome(summary: "ok", outputs: ["x": "1"])),
            .stepStarted(step: "b", attempt: 1),
        ]
        var run = RunbookRun.replay(journal, runbook: base.runbook)!
        guard case .checkInterrupted(let invocation) = run.next() else { Issue.record("expected a check"); return }
        #expect(invocation.step.id == "b")
        run.apply(.resumed(step: "b", resumption: .needsOperator("unknown")))
        guard case .confirm("b", _, false) = run.next() else { Issue.record("expected an operator question"); return }
        #expect(run.awaitingOperator)
        #expect(run.pendingQuestion != nil)
        run.apply(.answered(step: "b", answer: .skip, by: "bob"))
        #expect(run.pendingQuestion == nil, "an answered question is not shown again (a follower would answer it twice)")
        #expect(run.records["b"]?.state == .succeeded && run.records["a"]?.outputs == ["x": "1"])
        guard case .run(let c) = run.next() else { Issue.record("expected c"); return }
        #expect(c.step.id == "c")

        var idempotent = RunbookRun.replay(journal.dropLast() + [.stepStarted(step: "a", attempt: 1)] as [RunEvent], runbook: base.runbook)!
        guard case .checkInterrupted = idempotent.next() else { Issue.record("a exec step without idempotent: true is checked"); return }
        let interruptedC: [RunEvent] = journal + [
            .resumed(step: "b", resumption: .completed(StepOutcome(summary: "was done"))), .stepStarted(step: "c", attempt: 1),
        ]
        idempotent = RunbookRun.replay(interruptedC, runbook: base.runbook)!
        guard case .run(let rerun) = idempotent.next() else { Issue.record("idempotent: true re-runs at once"); return }
        #expect(rerun.step.id == "c" && rerun.attempt == 2)
    }

    @Test("a step that reports a newly committed epoch makes later steps act for it")
    func epochMoves() {
        var run = Self.run([Step(id: "promote", action: "promote"), Step(id: "announce", action: "announce")])
        run.apply(.stepStarted(step: "promote", attempt: 1))
        run.apply(.stepSucceeded(step: "promote", attempt: 1, outcome: StepOutcome(summary: "committed", epoch: Epoch(5))))
        guard case .run(let next) = run.next() else { Issue.record("expected announce"); return }
        #expect(next.epoch == Epoch(5))
    }
}
