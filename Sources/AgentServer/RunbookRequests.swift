import Foundation
import Orchestrator

/// `POST /v1/runbooks/NAME/run`.
public struct RunbookRunRequest: Codable, Sendable {
    public var params: [String: String]?
    /// Plan only: every precondition evaluated, nothing changed.
    public var dryRun: Bool?
    /// Answer the runbook's confirmations with yes.
    public var yes: Bool?
    /// Who asks, for the audit log.
    public var by: String?

    public init(params: [String: String]? = nil, dryRun: Bool? = nil, yes: Bool? = nil, by: String? = nil) {
        self.params = params
        self.dryRun = dryRun
        self.yes = yes
        self.by = by
    }
}

/// Its answer: the plan of a dry run, or the status of the run just started.
public struct RunbookRunReply: Codable, Sendable {
    public var plan: RunPlan?
    public var run: RunStatus?
}

/// `POST /v1/runbooks/confirm`: answers the question the run waits on.
public struct RunbookConfirmRequest: Codable, Sendable {
    /// The step asked about (optional: the current question).
    public var step: String?
    /// yes, no, or skip (only after a crash inside the step).
    public var answer: String
    public var by: String?

    public init(step: String?, answer: String, by: String? = nil) {
        self.step = step
        self.answer = answer
        self.by = by
    }
}

/// `GET /v1/runbooks/status` (also the answer to a confirmation).
public struct RunbookStatusReply: Codable, Sendable {
    /// The run in progress, or the last one since the agent started; `null` when none.
    public var run: RunStatus?
}

/// One entry of `GET /v1/runbooks`.
public struct RunbookSummary: Codable, Sendable {
    public var name: String
    public var description: String
    public var parameters: [Runbook.Parameter]

    public init(_ runbook: Runbook) {
        name = runbook.name
        description = runbook.description
        parameters = runbook.parameters
    }
}

/// `GET /v1/runbooks/NAME`: the runbook's steps as loaded, and its file's text.
public struct RunbookDetail: Codable, Sendable {
    public struct StepLine: Codable, Sendable {
        public var id: String
        public var action: String
        public var params: [String: String]
        public var when: String?
        public var timeout: String?
        public var retries: Int
        public var onFailure: String
        public var confirm: Bool
    }

    public var name: String
    public var description: String
    public var parameters: [Runbook.Parameter]
    public var steps: [StepLine]
    public var compensations: [StepLine]
    public var source: String

    public init(_ runbook: Runbook) {
        name = runbook.name
        description = runbook.description
        parameters = runbook.parameters
        steps = runbook.steps.map(Self.line)
        compensations = runbook.compensations.map(Self.line)
        source = runbook.source
    }

    static func line(_ step: Step) -> StepLine {
        let onFailure: String
        switch step.onFailure {
        case .abort: onFailure = "abort"
        case .continue: onFailure = "continue"
        case .compensate(let id): onFailure = id
        }
        return StepLine(
            id: step.id, action: step.action, params: step.parameters, when: step.when.map(\.description),
            timeout: step.timeout.map { "\($0)" }, retries: step.retries, onFailure: onFailure, confirm: step.confirm)
    }
}
