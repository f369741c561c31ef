import Consensus
import Logging

/// One named kind of runbook step (`probe`, `fence-site`, `exec`, …): what a runbook's
/// `action:` key names.
///
/// A conformer is built once, with whatever it needs to reach the live system (admin clients,
/// the flow supervisor, the election), and registered by ``name`` in a ``StepActionRegistry``.
/// The engine calls it with a ``StepContext`` per attempt.
///
/// - Important: Two contracts the engine relies on.
///   - ``plan(_:)`` changes nothing. It is what `--dry-run` runs, against the live system: it
///     reads, checks preconditions and describes what ``run(_:)`` would do.
///   - ``run(_:)`` acts for ``StepContext/epoch`` only, and honours task cancellation: the engine
///     cancels the task when the step's timeout passes or the run is stopped, and an action
///     that keeps going after that acts outside the runbook's control.
public protocol StepAction: Sendable {
    /// The name runbooks use in `action:` (lowercase words joined by `-`).
    var name: String { get }

    /// What happens when the agent was killed while this action was running (its start is in
    /// the journal, its end is not). See ``StepResumption``.
    var idempotency: StepIdempotency { get }

    /// The parameters this action accepts, so a runbook with a misspelt or missing key is
    /// refused when it is loaded rather than halfway through a failover. `nil` accepts any.
    var parameterSpecs: [StepParameterSpec]? { get }

    /// Dry run: evaluates every precondition against the live system, changes nothing, and
    /// says what ``run(_:)`` would do.
    /// - Throws: ``StepActionError`` when the plan cannot even be made (a parameter is invalid,
    ///   the system cannot be read). An unmet precondition is a ``StepPlan/Check`` that failed,
    ///   not an error.
    func plan(_ context: StepContext) async throws -> StepPlan

    /// Does the step's work for ``StepContext/epoch`` and reports what it did.
    /// - Throws: ``StepActionError`` (its `retriable` decides whether the step's `retries`
    ///   apply), `CancellationError` when cancelled.
    func run(_ context: StepContext) async throws -> StepOutcome

    /// Called instead of a blind re-run when the journal shows this step started and never
    /// ended (the agent was killed inside it), for actions that are not ``StepIdempotency/idempotent``.
    /// Finds out from the live system whether the interrupted attempt took effect.
    func resume(_ context: StepContext) async throws -> StepResumption
}

extension StepAction {
    public var idempotency: StepIdempotency { .idempotent }
    public var parameterSpecs: [StepParameterSpec]? { nil }

    /// By default: re-run an idempotent action, and stop for an operator otherwise (the engine
    /// cannot know whether a half-done `exec` or `http` took effect).
    public func resume(_ context: StepContext) async throws -> StepResumption {
        switch idempotency {
        case .idempotent: .rerun
        case .checked, .once:
            .needsOperator(
                "\(name) was interrupted and is not idempotent: check whether it took effect, "
                    + "then answer the run's confirmation with yes (run it again) or skip (treat it as done)")
        }
    }
}

/// How an action may be resumed after the agent died inside it.
public enum StepIdempotency: String, Sendable, Hashable, Codable {
    /// Running it twice has the effect of running it once (every data-plane action: each is
    /// epoch-checked and converges on a target state). The engine simply runs it again.
    case idempotent
    /// Running it twice could do its effect twice, but ``StepAction/resume(_:)`` can tell from
    /// the live system whether the interrupted attempt took effect.
    case checked
    /// Running it twice could do its effect twice and nothing can tell; an operator decides.
    case once
}

/// The engine's decision for a step found started-but-not-ended in the journal.
public enum StepResumption: Sendable, Hashable {
    /// The interrupted attempt had no effect (or the action is idempotent): run it again.
    case rerun
    /// The interrupted attempt took effect: record the step as done with these outputs.
    case completed(StepOutcome)
    /// Nobody can tell: the run waits for an operator's answer (yes = run again, skip = done).
    case needsOperator(String)
}

/// One declared parameter of an action.
public struct StepParameterSpec: Sendable, Hashable {
    public var key: String
    public var required: Bool
    /// One line for `switchback runbook show` and for the loader's fix hint.
    public var summary: String
    /// The value is a condition (``Condition``), parsed at load and not `${…}`-substituted.
    public var isExpression: Bool

    public init(_ key: String, required: Bool = false, expression: Bool = false, _ summary: String) {
        self.key = key
        self.required = required
        self.isExpression = expression
        self.summary = summary
    }
}

/// Everything one attempt of a step is given.
public struct StepContext: Sendable {
    /// The run this step belongs to (its journal's name).
    public var runID: String
    /// The runbook's name.
    public var runbook: String
    /// The step's id within the runbook.
    public var step: String
    /// 1 for the first attempt, then 2, 3… as retries happen.
    public var attempt: Int
    /// The step's parameters after `${…}` substitution.
    public var parameters: StepParameters
    /// The epoch the run acts for: every Kafka effect must be checked against it (``EpochFence``).
    public var epoch: Epoch
    /// The step's time limit; the engine cancels ``StepAction/run(_:)`` when it passes.
    public var timeout: Duration?
    /// The run's clock (a manual one in tests): sleep and poll with it, never with `Task.sleep`.
    public var clock: any Clock<Duration>
    /// The outputs of the steps that have completed, by step id.
    public var outputs: [String: [String: String]]
    /// The run's parameter values (what `params.NAME` reads in a condition).
    public var runParameters: [String: String]
    public var logger: Logger

    public init(
        runID: String, runbook: String, step: String, attempt: Int = 1, parameters: StepParameters,
        epoch: Epoch, timeout: Duration? = nil, clock: any Clock<Duration> = ContinuousClock(),
        outputs: [String: [String: String]] = [:], runParameters: [String: String] = [:],
        logger: Logger = Logger(label: "switchback.runbook")
    ) {
        self.runParameters = runParameters
        self.runID = runID
        self.runbook = runbook
        self.step = step
        self.attempt = attempt
        self.parameters = parameters
        self.epoch = epoch
        self.timeout = timeout
        self.clock = clock
        self.outputs = outputs
        self.logger = logger
    }
}
