import Consensus
import Foundation
import Logging

/// The runbook engine an agent owns (one per agent): loads runbooks, dry-runs them, runs one at
/// a time with its journal under `<data_dir>/runbooks/`, resumes an interrupted run after a
/// restart, and reports every step to a ``RunbookNoticeSink``.
///
/// Crash-resume contract: every ``RunEvent`` is fsynced before it takes effect. On restart
/// (``resumeInterrupted()``) the run replays its journal; a step that started and never ended
/// is re-run when its action is ``StepIdempotency/idempotent`` (or the step says
/// `idempotent: true`), otherwise its action's ``StepAction/resume(_:)`` decides: the effect
/// is there (record it done), it is not (run it), or nobody can tell (ask an operator:
/// yes = run again, skip = it is done, no = abort). No step that ended is run again.
public actor RunbookRunner {
    public let runbooksDirectory: String
    public let journalDirectory: String
    let registry: StepActionRegistry
    let loader: RunbookLoader
    let clock: any Clock<Duration>
    let currentEpoch: @Sendable () async -> Epoch
    let sink: RunbookNoticeSink
    let logger: Logger

    var active: (run: RunbookRun, journal: RunJournal, task: Task<Void, Never>)?
    var last: RunStatus?
    var problem: String?
    var answerWaiter: (step: String, continuation: CheckedContinuation<(ConfirmationAnswer, String), any Error>)?
    var finishWaiters: [CheckedContinuation<RunStatus?, Never>] = []
    var changeWaiters: [CheckedContinuation<RunStatus?, Never>] = []

    /// - Parameters:
    ///   - runbooksDirectory: where `NAME.yaml` files are (the shipped `Runbooks/`, or the agent's own).
    ///   - dataDirectory: the agent's `data_dir`; journals go to `runbooks/` inside it.
    ///   - currentEpoch: the committed epoch a new run acts for.
    public init(
        runbooksDirectory: String, dataDirectory: String, registry: StepActionRegistry,
        clock: any Clock<Duration> = ContinuousClock(), currentEpoch: @escaping @Sendable () async -> Epoch,
        sink: @escaping RunbookNoticeSink, logger: Logger = Logger(label: "switchback.runbook")
    ) {
        self.runbooksDirectory = runbooksDirectory
        self.journalDirectory = dataDirectory + "/runbooks"
        self.registry = registry
        self.loader = RunbookLoader(registry: registry)
        self.clock = clock
        self.currentEpoch = currentEpoch
        self.sink = sink
        self.logger = logger
    }

    // MARK: - Library

    /// Every runbook in the directory (read afresh, so an edited file is seen at once).
    public func runbooks() throws(RunbookError) -> [Runbook] { try loader.loadDirectory(runbooksDirectory) }

    public func runbook(named name: String) throws(RunbookError) -> Runbook {
        guard RunbookLoader.isIdentifier(name) else {
            throw RunbookError(.notFound, "'\(name)' is not a runbook name (lowercase letters, digits and '-')")
        }
        let path = runbooksDirectory + "/" + name + ".yaml"
        guard FileManager.default.fileExists(atPath: path) else {
            let names = ((try? runbooks()) ?? []).map(\.name)
            throw RunbookError(.notFound, "no runbook named \(name) in \(runbooksDirectory); runbooks: \(names.joined(separator: ", "))")
        }
        return try loader.load(path: path)
    }

    // MARK: - Dry run

    /// Plans every step against the live system, changing nothing.
    public func plan(_ name: String, parameters given: [String: String]) async throws(RunbookError) -> RunPlan {
        try await plan(try runbook(named: name), parameters: given)
    }

    public func plan(_ runbook: Runbook, parameters given: [String: String]) async throws(RunbookError) -> RunPlan {
        let parameters = try runbook.resolve(given)
        let epoch = await currentEpoch()
        let lookup = { (reference: Condition.Reference) -> String? in
            if case .parameter(let name) = reference { return parameters[name] }
            return nil
        }
        var planned: [RunPlan.PlannedStep] = []
        for step in runbook.steps {
            var decision = "runs"
            if let when = step.when {
                do throws(ConditionError) {
                    decision = try when.evaluate(lookup) ? "runs: when \(when) holds" : "skipped: when \(when) is false"
                } catch {
                    decision = "decided at run time: when \(when) reads earlier steps' outputs"
                }
            }
            var entry = RunPlan.PlannedStep(id: step.id, action: step.action, decision: decision, confirm: step.confirm)
            guard !decision.hasPrefix("skipped"), let action = registry.action(named: step.action) else {
                planned.append(entry)
                continue
            }
            var values: [String: String] = [:]
            var pending: String?
            for (key, text) in step.parameters {
                if step.expressionKeys.contains(key) {
                    values[key] = text
                    continue
                }
                do throws(ConditionError) {
                    values[key] = try StepTemplate(parsing: text).render(lookup)
                } catch {
                    pending = "parameter '\(key)' = \(text) reads earlier steps' outputs: planned when the run gets here"
                }
            }
            if let pending {
                entry.note = pending
            } else {
                let context = StepContext(
                    runID: "dry-run", runbook: runbook.name, step: step.id, parameters: StepParameters(values), epoch: epoch,
                    timeout: step.timeout, clock: clock, runParameters: parameters, logger: logger)
                do {
                    entry.plan = try await action.plan(context)
                } catch {
                    entry.note = "cannot plan: \(Self.describe(error))"
                }
            }
            planned.append(entry)
        }
        return RunPlan(runbook: runbook.name, parameters: parameters, epoch: epoch, steps: planned)
    }

    // MARK: - Runs

    /// Starts a run in the background and returns its first status.
    /// - Throws: ``RunbookError`` `busy` naming the run in progress, or a load/parameter error.
    public func start(_ name: String, parameters: [String: String], assumeYes: Bool, by: String) async throws(RunbookError) -> RunStatus {
        try await start(try runbook(named: name), parameters: parameters, assumeYes: assumeYes, by: by)
    }

    public func start(_ runbook: Runbook, parameters given: [String: String], assumeYes: Bool, by: String) async throws(RunbookError) -> RunStatus {
        try refuseIfBusy()
        let parameters = try runbook.resolve(given)
        let epoch = await currentEpoch()
        try refuseIfBusy()
        let now = Date()
        let runID = Self.runID(runbook.name, at: now)
        let start = RunStart(
            runID: runID, runbook: runbook.name, source: runbook.source, parameters: parameters, epoch: epoch,
            assumeYes: assumeYes, startedAt: now, startedBy: by)
        let journal = try RunJournal(path: journalDirectory + "/" + runID + ".jsonl")
        try journal.append(.started(start))
        notice(start, nil, .runStarted, epoch, "\(by) started \(runbook.name) (\(Self.format(parameters)))")
        return launch(RunbookRun(start: start, runbook: runbook), journal)
    }

    /// Finds a run the agent was killed in the middle of and goes on with it. Call once at start.
    /// - Returns: its status, or `nil` when every journal is finished.
    @discardableResult
    public func resumeInterrupted() throws(RunbookError) -> RunStatus? {
        guard active == nil else { return status() }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: journalDirectory)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
        for name in names.reversed() {
            let path = journalDirectory + "/" + name
            let events = try RunJournal.read(path: path)
            guard case .started(let start) = events.first else { continue }
            let runbook = try loader.load(text: start.source, file: path + " (the runbook as the run started)")
            guard let run = RunbookRun.replay(events, runbook: runbook) else { continue }
            if run.result != nil {
                if last == nil { last = Self.status(of: run, problem: nil) }
                continue
            }
            notice(start, run.currentStep?.id, .runResumed, run.epoch, "resuming \(start.runbook) after a restart at step \(run.currentStep?.id ?? "-")")
            return launch(run, try RunJournal(path: path))
        }
        return nil
    }

    /// The run in progress, or the last one.
    public func status() -> RunStatus? {
        guard let active else { return last }
        var status = Self.status(of: active.run, problem: problem)
        if problem != nil { status.state = .stalled }
        return status
    }

    /// Answers the question the run is waiting on.
    /// - Throws: ``RunbookError`` `noQuestion` when no run waits for an answer to `step`.
    public func answer(step: String?, _ answer: ConfirmationAnswer, by: String) throws(RunbookError) {
        guard let waiter = answerWaiter, step == nil || step == waiter.step else {
            let waiting = answerWaiter.map { "it waits for step \($0.step)" } ?? "no run waits for an answer"
            throw RunbookError(.noQuestion, "cannot answer \(step ?? "the run"): \(waiting)")
        }
        let accepted = status()?.question?.answers ?? [.yes, .no]
        guard accepted.contains(answer) else {
            throw RunbookError(.noQuestion, "\(answer.rawValue) is not an answer to step \(waiter.step); answer \(accepted.map(\.rawValue).joined(separator: ", "))")
        }
        answerWaiter = nil
        waiter.continuation.resume(returning: (answer, by))
    }

    /// Waits until no run is in progress (or the run stalls) and returns the last status.
    public func waitUntilIdle() async -> RunStatus? {
        guard active != nil, problem == nil else { return status() }
        return await withCheckedContinuation { finishWaiters.append($0) }
    }

    /// Stops driving the run (agent shutdown): its journal stays unfinished, so it resumes on restart.
    public func shutdown() async {
        guard let task = active?.task else { return }
        task.cancel()
        if let waiter = answerWaiter {
            answerWaiter = nil
            waiter.continuation.resume(throwing: CancellationError())
        }
        await task.value
    }

    /// Journals `event`, then applies it to the run.
    func record(_ event: RunEvent) throws(RunbookError) {
        guard let journal = active?.journal else { return }
        try journal.append(event)
        active?.run.apply(event)
        wakeChangeWaiters()
    }

    /// Waits until the status differs from `seen` (a step moved, a question was asked, the run
    /// ended), for followers that print progress without polling.
    public func waitForChange(from seen: RunStatus?) async -> RunStatus? {
        let now = status()
        guard now == seen else { return now }
        return await withCheckedContinuation { changeWaiters.append($0) }
    }

    func wakeChangeWaiters() {
        let waiters = changeWaiters
        changeWaiters = []
        let current = status()
        for waiter in waiters { waiter.resume(returning: current) }
    }

    func emit(_ step: String, _ kind: RunbookNotice.Kind, _ message: String, severity: RunbookNotice.Severity = .info, alert: Bool = false) {
        guard let run = active?.run else { return }
        notice(run.start, step, kind, run.epoch, "\(run.runbook.name) step \(step): \(message)", severity: severity, alert: alert)
    }

    /// The run is over: it becomes the last one, and a new run may start.
    func finish(_ result: RunResult) {
        guard let run = active?.run else { return }
        let severity: RunbookNotice.Severity = result.status == .succeeded ? .info : .critical
        notice(run.start, result.step, .runFinished, run.epoch, "\(run.runbook.name) \(result.status.rawValue): \(result.summary)", severity: severity, alert: true)
        last = Self.status(of: run, problem: nil)
        active = nil
        wakeFinishWaiters()
    }

    /// The journal could not be written: the run stops where it is (see ``RunStatus/State/stalled``).
    func stall(_ reason: String) {
        problem = reason
        if let run = active?.run {
            notice(run.start, run.currentStep?.id, .runFinished, run.epoch, "\(run.runbook.name) stalled: \(reason)", severity: .critical, alert: true)
        }
        wakeFinishWaiters()
    }

    private func wakeFinishWaiters() {
        wakeChangeWaiters()
        let waiters = finishWaiters
        finishWaiters = []
        let current = status()
        for waiter in waiters { waiter.resume(returning: current) }
    }

    private func refuseIfBusy() throws(RunbookError) {
        guard let active else { return }
        throw RunbookError(
            .busy, "run \(active.run.start.runID) of \(active.run.runbook.name) is in progress (step \(active.run.currentStep?.id ?? "-"), started by \(active.run.start.startedBy)); one run at a time per agent: wait for it or answer its question (switchback runbook status)")
    }

    private func launch(_ run: RunbookRun, _ journal: RunJournal) -> RunStatus {
        problem = nil
        let task = Task { await self.drive() }
        active = (run, journal, task)
        return Self.status(of: run, problem: nil)
    }
}

extension RunbookRunner {
    static func runID(_ name: String, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "\(formatter.string(from: date))-\(name)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    static func format(_ parameters: [String: String]) -> String {
        parameters.isEmpty ? "no parameters" : parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    static func describe(_ error: any Error) -> String {
        (error as? StepActionError)?.message ?? (error as? StaleEpoch)?.description ?? String(describing: error)
    }

    static func status(of run: RunbookRun, problem: String?) -> RunStatus {
        let question = run.pendingQuestion.map { pending in
            RunStatus.Question(step: pending.step, prompt: pending.prompt, answers: run.awaitingOperator ? [.yes, .skip, .no] : [.yes, .no])
        }
        let state: RunStatus.State = run.result != nil ? .finished : question != nil ? .waiting : .running
        return RunStatus(
            runID: run.start.runID, runbook: run.runbook.name, state: state, startedAt: run.start.startedAt, startedBy: run.start.startedBy,
            parameters: run.start.parameters, epoch: run.epoch, currentStep: run.currentStep?.id, question: question,
            steps: run.orderedRecords, result: run.result, problem: problem)
    }

    func notice(_ start: RunStart, _ step: String?, _ kind: RunbookNotice.Kind, _ epoch: Epoch, _ message: String, severity: RunbookNotice.Severity = .info, alert: Bool = false) {
        sink(RunbookNotice(runID: start.runID, runbook: start.runbook, step: step, kind: kind, epoch: epoch, message: message, severity: severity, alert: alert))
    }
}
