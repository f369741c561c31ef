import Consensus
import Foundation
import SwitchbackConfiguration

/// The loop that carries a run's state machine out: each ``RunbookRun/Action`` performed,
/// each resulting ``RunEvent`` journaled (fsynced) before it is applied.
extension RunbookRunner {
    func drive() async {
        while let action = active?.run.next() {
            do {
                switch action {
                case .none:
                    return
                case .finish(let result):
                    try record(.finished(result))
                    finish(result)
                    return
                case .skip(let step, let reason):
                    try record(.stepSkipped(step: step, reason: reason))
                    emit(step, .stepSkipped, "skipped: \(reason)")
                case .refuse(let step, let attempt, let error):
                    try record(.stepFailed(step: step, attempt: attempt, error: error))
                    emit(step, .stepFailed, "failed before running: \(error.message)", severity: .warning, alert: true)
                case .backoff(_, let delay):
                    try await clock.sleep(for: delay)
                    active?.run.retryDue()
                case .confirm(let step, let prompt, let automatic):
                    let (answer, by) = automatic ? (ConfirmationAnswer.yes, "--yes") : try await waitForAnswer(step, prompt)
                    try record(.answered(step: step, answer: answer, by: by))
                    emit(step, .confirmed, "\(by) answered \(answer.rawValue) to: \(prompt)")
                case .checkInterrupted(let invocation):
                    let resumption = await interrupted(invocation)
                    try record(.resumed(step: invocation.step.id, resumption: resumption))
                case .run(let invocation):
                    try await run(invocation)
                }
            } catch is CancellationError {
                return
            } catch {
                // Only the journal throws here: the run stops rather than act on what it
                // could not record, and resumes from the journal when the agent restarts.
                stall(Self.describe(error))
                return
            }
        }
    }

    private func run(_ invocation: RunbookRun.StepInvocation) async throws {
        let step = invocation.step
        try record(.stepStarted(step: step.id, attempt: invocation.attempt))
        emit(step.id, .stepStarted, "attempt \(invocation.attempt) of \(step.action)")
        guard let action = registry.action(named: step.action) else {
            let error = StepActionError(.invalidParameter, "no action named \(step.action) on this agent", retriable: false)
            try record(.stepFailed(step: step.id, attempt: invocation.attempt, error: error))
            return
        }
        let result = await perform(action, context(invocation), timeout: step.timeout)
        try Task.checkCancellation()
        switch result {
        case .success(let outcome):
            try record(.stepSucceeded(step: step.id, attempt: invocation.attempt, outcome: outcome))
            emit(step.id, .stepSucceeded, outcome.summary, alert: outcome.alert)
        case .failure(let error):
            try record(.stepFailed(step: step.id, attempt: invocation.attempt, error: error))
            let final = active?.run.records[step.id]?.state == .failed
            emit(step.id, .stepFailed, "attempt \(invocation.attempt) failed: \(error.message)\(final ? "" : "; retrying")",
                severity: final ? .critical : .warning, alert: final)
        }
    }

    /// Runs the action under the step's timeout; every error becomes a ``StepActionError``.
    private func perform(_ action: any StepAction, _ context: StepContext, timeout: Duration?) async -> Result<StepOutcome, StepActionError> {
        let clock = self.clock
        do {
            let outcome = try await withThrowingTaskGroup(of: StepOutcome?.self) { group in
                group.addTask { try await action.run(context) }
                if let timeout {
                    group.addTask {
                        try await clock.sleep(for: timeout)
                        return nil
                    }
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let outcome = first else {
                    throw StepActionError(.timedOut, "\(action.name) did not finish within \(DurationText.format(timeout ?? .zero))", retriable: true)
                }
                return outcome
            }
            return .success(outcome)
        } catch let error as StepActionError {
            return .failure(error)
        } catch let error as StaleEpoch {
            return .failure(StepActionError(.staleEpoch, error.description, retriable: false))
        } catch is CancellationError where !Task.isCancelled {
            return .failure(StepActionError(.failed, "\(action.name) was cancelled", retriable: true))
        } catch {
            return .failure(StepActionError(.failed, "\(action.name) failed: \(error)", retriable: true))
        }
    }

    private func interrupted(_ invocation: RunbookRun.StepInvocation) async -> JournaledResumption {
        let step = invocation.step
        emit(step.id, .runResumed, "the agent stopped inside step \(step.id) (attempt \(invocation.attempt)); deciding how to resume it", severity: .warning)
        guard let action = registry.action(named: step.action) else { return .rerun }
        if step.idempotent == false {
            return .needsOperator("step \(step.id) (\(step.action)) was interrupted and is marked idempotent: false: check whether it took effect, then answer yes (run it again), skip (it is done) or no (abort)")
        }
        if action.idempotency == .idempotent { return .rerun }
        do {
            return JournaledResumption(try await action.resume(context(invocation)))
        } catch {
            return .needsOperator("step \(step.id) was interrupted and checking it failed (\(Self.describe(error))): answer yes (run it again), skip (it is done) or no (abort)")
        }
    }

    private func waitForAnswer(_ step: String, _ prompt: String) async throws -> (ConfirmationAnswer, String) {
        if let run = active?.run {
            notice(run.start, step, .confirmationNeeded, run.epoch, "waiting for an operator: \(prompt) (switchback runbook confirm --step \(step))", severity: .warning, alert: true)
        }
        return try await withCheckedThrowingContinuation { continuation in
            answerWaiter = (step, continuation)
            wakeChangeWaiters()
        }
    }

    private func context(_ invocation: RunbookRun.StepInvocation) -> StepContext {
        let run = active?.run
        return StepContext(
            runID: run?.start.runID ?? "", runbook: run?.runbook.name ?? "", step: invocation.step.id, attempt: invocation.attempt,
            parameters: invocation.parameters, epoch: invocation.epoch, timeout: invocation.step.timeout, clock: clock,
            outputs: run?.outputs ?? [:], runParameters: run?.start.parameters ?? [:], logger: logger)
    }
}
