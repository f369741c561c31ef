import SwitchbackConfiguration

/// A procedure as a list of steps (DESIGN.md §7), loaded from `Runbooks/NAME.yaml` by
/// ``RunbookLoader``. Values only: running one is ``RunbookRun``'s business.
public struct Runbook: Sendable, Hashable {
    /// A parameter the runbook takes (`--param key=value`).
    public struct Parameter: Sendable, Hashable, Codable {
        public var name: String
        /// `nil`: the parameter is required.
        public var defaultValue: String?
        public var description: String

        public init(name: String, defaultValue: String? = nil, description: String = "") {
            self.name = name
            self.defaultValue = defaultValue
            self.description = description
        }
    }

    public var name: String
    /// What the runbook is for and when to run it (`description:` at its top).
    public var description: String
    public var parameters: [Parameter]
    public var steps: [Step]
    /// Steps run only as an `on_failure` compensation, by id.
    public var compensations: [Step]
    /// The YAML text it was loaded from: a run journals it, so a resumed run follows the
    /// definition it started with even if the file changed since.
    public var source: String

    public init(name: String, description: String, parameters: [Parameter] = [], steps: [Step], compensations: [Step] = [], source: String = "") {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.steps = steps
        self.compensations = compensations
        self.source = source
    }

    /// The step or compensation named `id`.
    public func step(_ id: String) -> Step? {
        steps.first { $0.id == id } ?? compensations.first { $0.id == id }
    }

    /// The run's parameter values: `given` over the defaults.
    /// - Throws: ``RunbookError`` naming a required parameter that is missing or an unknown one.
    public func resolve(_ given: [String: String]) throws(RunbookError) -> [String: String] {
        for key in given.keys.sorted() where !parameters.contains(where: { $0.name == key }) {
            let names = parameters.map(\.name)
            let hint = KeySuggestion.closest(to: key, among: names).map { "did you mean '\($0)'? " } ?? ""
            throw RunbookError(.invalidParameter, "runbook \(name) has no parameter '\(key)'; \(hint)its parameters: \(names.isEmpty ? "none" : names.joined(separator: ", "))")
        }
        var resolved: [String: String] = [:]
        for parameter in parameters {
            guard let value = given[parameter.name] ?? parameter.defaultValue else {
                throw RunbookError(.invalidParameter, "runbook \(name) needs --param \(parameter.name)=VALUE (\(parameter.description))")
            }
            resolved[parameter.name] = value
        }
        return resolved
    }
}

/// One step of a runbook.
public struct Step: Sendable, Hashable {
    /// What to do when the step has failed for good (after its retries).
    public enum FailurePolicy: Sendable, Hashable, Codable {
        /// Stop the run; it ends failed.
        case abort
        /// Record the failure and go on with the next step.
        case `continue`
        /// Run the named compensating step (from `compensations:`), then stop the run.
        case compensate(String)
    }

    public var id: String
    public var action: String
    /// Parameter values, possibly with `${params.x}` / `${steps.id.key}` references.
    public var parameters: [String: String]
    public var timeout: Duration?
    /// How many times a retriable failure is tried again.
    public var retries: Int
    /// The wait before the first retry; each further retry waits twice as long, up to ``maximumBackoff``.
    public var backoff: Duration
    public var when: Condition?
    public var onFailure: FailurePolicy
    /// The step waits for `--yes` or an operator's answer before it runs.
    public var confirm: Bool
    /// Overrides the action's ``StepIdempotency`` for this step: `true` lets the engine re-run it
    /// after a crash inside it (an `exec` of an idempotent script).
    public var idempotent: Bool?
    /// The line it starts on in its file, for messages.
    public var line: Int?
    /// Parameters that hold conditions (evaluated by the action, not `${…}`-substituted).
    public var expressionKeys: Set<String> = []

    public static let maximumBackoff: Duration = .seconds(300)

    public init(
        id: String, action: String, parameters: [String: String] = [:], timeout: Duration? = nil, retries: Int = 0,
        backoff: Duration = .seconds(1), when: Condition? = nil, onFailure: FailurePolicy = .abort, confirm: Bool = false,
        idempotent: Bool? = nil, line: Int? = nil
    ) {
        self.id = id
        self.action = action
        self.parameters = parameters
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.when = when
        self.onFailure = onFailure
        self.confirm = confirm
        self.idempotent = idempotent
        self.line = line
    }

    /// The wait before retry number `retry` (1-based): back-off doubling, capped.
    public func delay(beforeRetry retry: Int) -> Duration {
        var delay = backoff
        for _ in 1..<max(1, retry) {
            delay = delay * 2
            if delay >= Self.maximumBackoff { return Self.maximumBackoff }
        }
        return min(delay, Self.maximumBackoff)
    }
}
