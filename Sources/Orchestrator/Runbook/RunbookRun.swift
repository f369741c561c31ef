import Consensus

/// One run of a runbook as a state machine (STYLE.md): events in (``RunEvent``, the same ones
/// the journal holds), a ``RunAction`` out, no I/O — so retries, timeouts, `when`, failure
/// policies, confirmations and crash-resume are tested by feeding events.
///
/// The engine loops: `next()` says what to do; the engine does it and ``apply(_:)``s the event
/// that resulted, after journaling it. Replaying a journal through ``apply(_:)`` rebuilds the
/// state at the crash; `next()` then says how to go on.
public struct RunbookRun: Sendable {
    /// What the engine should do now.
    public enum Action: Sendable, Hashable {
        /// Journal ``RunEvent/stepStarted(step:attempt:)``, run the step's action with these
        /// (already substituted) parameters and the timeout, then journal how it ended.
        case run(StepInvocation)
        /// Journal ``RunEvent/stepSkipped(step:reason:)``.
        case skip(step: String, reason: String)
        /// Wait, then call ``RunbookRun/retryDue()`` (the attempt before failed retriably).
        case backoff(step: String, delay: Duration)
        /// Ask the step's question. `automatic`: `--yes` answers it; journal the answer.
        case confirm(step: String, prompt: String, automatic: Bool)
        /// The agent died inside this step and its action is not idempotent: call the action's
        /// `resume` and journal ``RunEvent/resumed(step:resumption:)``.
        case checkInterrupted(StepInvocation)
        /// The step cannot run (its `when` or a `${…}` reads a value an earlier step did not
        /// produce): journal ``RunEvent/stepFailed(step:attempt:error:)`` without running it.
        case refuse(step: String, attempt: Int, error: StepActionError)
        /// Journal ``RunEvent/finished(_:)``; the run is over.
        case finish(RunResult)
        /// Nothing until an event arrives (the run is over, or waits for an answer).
        case none
    }

    /// A step ready to run.
    public struct StepInvocation: Sendable, Hashable {
        public var step: Step
        public var attempt: Int
        public var parameters: StepParameters
        public var epoch: Epoch
    }

    /// How one step stands.
    public struct StepRecord: Sendable, Hashable, Codable {
        public enum State: String, Sendable, Hashable, Codable {
            case pending, running, succeeded, failed, skipped
        }

        public var step: String
        public var action: String
        public var state: State = .pending
        public var attempts = 0
        public var summary: String?
        public var error: StepActionError?
        public var outputs: [String: String] = [:]
    }

    private enum Position: Sendable, Hashable {
        case step(Int)
        /// Running a compensation after `failed` failed with `error`.
        case compensation(String, failed: String, error: StepActionError)
        case finished(RunResult)
    }

    public let start: RunStart
    public let runbook: Runbook
    private var position: Position = .step(0)
    public private(set) var records: [String: StepRecord] = [:]
    /// The epoch later steps act for (moves when a step reports a newly committed one).
    public private(set) var epoch: Epoch
    /// The step whose attempt is in flight (started, not ended).
    private var inFlight: Int?
    private var retryWaiting = false
    private var confirmed: Set<String> = []
    /// The interrupted step waits for an operator (``ConfirmationAnswer``) with this reason.
    private var operatorQuestion: String?
    /// The interrupted step's action asked to be re-run (``JournaledResumption/rerun``).
    private var interruptedCleared = false
    /// The question is about a step the agent was interrupted inside (answers yes, skip, no).
    public var awaitingOperator: Bool { operatorQuestion != nil }
    /// The question asked and not yet answered, if any.
    public private(set) var pendingQuestion: (step: String, prompt: String)?

    public init(start: RunStart, runbook: Runbook) {
        self.start = start
        self.runbook = runbook
        self.epoch = start.epoch
        for step in runbook.steps + runbook.compensations {
            records[step.id] = StepRecord(step: step.id, action: step.action)
        }
    }

    /// The step being worked on, `nil` once the run is over.
    public var currentStep: Step? {
        switch position {
        case .step(let index): index < runbook.steps.count ? runbook.steps[index] : nil
        case .compensation(let id, _, _): runbook.step(id)
        case .finished: nil
        }
    }

    public var result: RunResult? {
        if case .finished(let result) = position { return result }
        return nil
    }

    /// Records in runbook order (steps, then compensations).
    public var orderedRecords: [StepRecord] {
        (runbook.steps + runbook.compensations).compactMap { records[$0.id] }
    }

    /// What to do now.
    public mutating func next() -> Action {
        pendingQuestion = nil
        if case .finished(let result) = position { return finishJournaled ? .none : .finish(result) }
        guard let step = currentStep else { return .finish(finalResult()) }
        let attempt = inFlight ?? ((records[step.id]?.attempts ?? 0) + 1)
        if let inFlight {
            if let operatorQuestion {
                pendingQuestion = (step.id, operatorQuestion)
                return .confirm(step: step.id, prompt: operatorQuestion, automatic: false)
            }
            if !interruptedCleared {
                switch invocation(step, attempt: inFlight) {
                case .success(let invocation): return .checkInterrupted(invocation)
                case .failure(let error): return .refuse(step: step.id, attempt: attempt, error: error)
                }
            }
        }
        if retryWaiting {
            let attempts = records[step.id]?.attempts ?? 0
            return .backoff(step: step.id, delay: step.delay(beforeRetry: attempts))
        }
        if records[step.id]?.attempts == 0, inFlight == nil, let when = step.when {
            do throws(ConditionError) {
                if try !when.evaluate(lookup) { return .skip(step: step.id, reason: "when \(when) is false") }
            } catch {
                return .refuse(step: step.id, attempt: attempt, error: StepActionError(.invalidParameter, "when: \(error.message)", retriable: false))
            }
        }
        if step.confirm, !confirmed.contains(step.id) {
            let prompt = "confirm step \(step.id) (\(step.action)) of \(runbook.name)"
            pendingQuestion = (step.id, prompt)
            return .confirm(step: step.id, prompt: prompt, automatic: start.assumeYes)
        }
        switch invocation(step, attempt: attempt) {
        case .success(let invocation): return .run(invocation)
        case .failure(let error): return .refuse(step: step.id, attempt: attempt, error: error)
        }
    }

    private var finishJournaled = false

    /// Applies an event (live, or replayed from the journal).
    public mutating func apply(_ event: RunEvent) {
        switch event {
        case .started:
            break
        case .stepStarted(let id, let attempt):
            inFlight = attempt
            interruptedCleared = true
            records[id]?.state = .running
            records[id]?.attempts = attempt
        case .stepSucceeded(let id, _, let outcome):
            complete(id, outcome)
        case .stepFailed(let id, let attempt, let error):
            fail(id, attempt: attempt, error)
        case .stepSkipped(let id, let reason):
            records[id]?.state = .skipped
            records[id]?.summary = reason
            advance()
        case .answered(let id, let answer, let by):
            pendingQuestion = nil
            if operatorQuestion != nil {
                operatorQuestion = nil
                switch answer {
                case .yes:
                    interruptedCleared = true
                    inFlight = nil
                case .skip:
                    complete(id, StepOutcome(summary: "recorded as done by \(by) after the agent was interrupted inside it"))
                case .no:
                    inFlight = nil
                    abort(id, "\(by) declined to resume step \(id) after the agent was interrupted inside it")
                }
            } else {
                switch answer {
                case .yes, .skip: confirmed.insert(id)
                case .no: abort(id, "\(by) declined step \(id)")
                }
            }
        case .resumed(let id, let resumption):
            switch resumption {
            case .rerun:
                interruptedCleared = true
                inFlight = nil
            case .completed(let outcome):
                complete(id, outcome)
            case .needsOperator(let reason):
                operatorQuestion = reason
            }
        case .finished(let result):
            position = .finished(result)
            finishJournaled = true
        }
    }

    /// The back-off before a retry has passed.
    public mutating func retryDue() { retryWaiting = false }

    /// Restores a run from its journal; after this, ``next()`` says how to go on. An attempt
    /// that started and never ended is flagged so `next()` asks its action (or an operator)
    /// rather than running it blindly again.
    public static func replay(_ events: [RunEvent], runbook: Runbook) -> RunbookRun? {
        guard case .started(let start) = events.first else { return nil }
        var run = RunbookRun(start: start, runbook: runbook)
        for event in events.dropFirst() { run.apply(event) }
        if run.inFlight != nil {
            run.interruptedCleared = false
            run.retryWaiting = false
            if let step = run.currentStep, step.idempotent == true { run.interruptedCleared = true; run.inFlight = nil }
        }
        return run
    }

    // MARK: - Transitions

    private mutating func complete(_ id: String, _ outcome: StepOutcome) {
        inFlight = nil
        records[id]?.state = .succeeded
        records[id]?.summary = outcome.summary
        records[id]?.outputs = outcome.outputs
        records[id]?.error = nil
        if let newer = outcome.epoch, newer > epoch { epoch = newer }
        advance()
    }

    private mutating func fail(_ id: String, attempt: Int, _ error: StepActionError) {
        inFlight = nil
        records[id]?.attempts = attempt
        records[id]?.error = error
        records[id]?.summary = error.message
        guard let step = runbook.step(id) else { return }
        if error.retriable, attempt <= step.retries {
            records[id]?.state = .pending
            retryWaiting = true
            return
        }
        records[id]?.state = .failed
        if case .compensation(_, let failed, let original) = position {
            position = .finished(RunResult(.failed, "step \(failed) failed (\(original.message)) and its compensation \(id) failed too (\(error.message))", step: failed))
            return
        }
        switch step.onFailure {
        case .abort:
            position = .finished(RunResult(.failed, "step \(id) failed: \(error.message)", step: id))
        case .continue:
            advance()
        case .compensate(let compensation):
            position = .compensation(compensation, failed: id, error: error)
        }
    }

    private mutating func abort(_ id: String, _ reason: String) {
        records[id]?.state = .failed
        records[id]?.summary = reason
        position = .finished(RunResult(.aborted, reason, step: id))
    }

    private mutating func advance() {
        retryWaiting = false
        interruptedCleared = false
        switch position {
        case .step(let index): position = .step(index + 1)
        case .compensation(let id, let failed, let error):
            position = .finished(RunResult(.failed, "step \(failed) failed (\(error.message)); compensation \(id) ran", step: failed))
        case .finished: break
        }
    }

    private func finalResult() -> RunResult {
        let failed = orderedRecords.filter { $0.state == .failed }.map(\.step)
        let summary = failed.isEmpty
            ? "\(runbook.name) completed: every step succeeded or was skipped"
            : "\(runbook.name) completed; steps that failed and were continued past: \(failed.joined(separator: ", "))"
        return RunResult(.succeeded, summary)
    }

    /// The step with its `${…}` references substituted. Templates were validated at load; what
    /// can still fail is a value an earlier step did not produce, and that is this step's
    /// failure, journaled like any other. Condition-valued parameters are passed as written.
    private func invocation(_ step: Step, attempt: Int) -> Result<StepInvocation, StepActionError> {
        var values: [String: String] = [:]
        for (key, text) in step.parameters {
            guard !step.expressionKeys.contains(key) else {
                values[key] = text
                continue
            }
            do throws(ConditionError) {
                values[key] = try StepTemplate(parsing: text).render(lookup)
            } catch {
                return .failure(StepActionError(.invalidParameter, "parameter '\(key)': \(error.message)", retriable: false))
            }
        }
        return .success(StepInvocation(step: step, attempt: attempt, parameters: StepParameters(values), epoch: epoch))
    }

    /// The value of a reference: a parameter, or an output (or the `status`) of a step.
    public func lookup(_ reference: Condition.Reference) -> String? {
        switch reference {
        case .parameter(let name): return start.parameters[name]
        case .output(let step, let key):
            guard let record = records[step] else { return nil }
            if key == "status" { return record.state.rawValue }
            return record.outputs[key]
        case .result: return nil
        }
    }

    /// Every finished step's outputs, by step id (what actions see as ``StepContext/outputs``).
    public var outputs: [String: [String: String]] {
        records.filter { $0.value.state == .succeeded }.mapValues(\.outputs)
    }
}
