import Consensus
import Foundation

/// A run as `switchback runbook status` and `GET /v1/runbooks/status` show it.
public struct RunStatus: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Working on a step.
        case running
        /// Waiting for an operator's answer (``question``).
        case waiting
        /// Over (``result``).
        case finished
        /// Stopped because its journal could not be written (``problem``); it resumes when
        /// the agent restarts with a writable disk.
        case stalled
    }

    public struct Question: Sendable, Hashable, Codable {
        public var step: String
        public var prompt: String
        /// The answers accepted: yes/no, or yes/skip/no after a crash inside the step.
        public var answers: [ConfirmationAnswer]
    }

    public var runID: String
    public var runbook: String
    public var state: State
    public var startedAt: Date
    public var startedBy: String
    public var parameters: [String: String]
    public var epoch: Epoch
    public var currentStep: String?
    public var question: Question?
    public var steps: [RunbookRun.StepRecord]
    public var result: RunResult?
    public var problem: String?
}

/// A dry run: each step as it would run now, with its preconditions evaluated.
public struct RunPlan: Sendable, Hashable, Codable {
    public struct PlannedStep: Sendable, Hashable, Codable {
        public var id: String
        public var action: String
        /// "runs", "skipped: …" or "decided at run time: …" for its `when`.
        public var decision: String
        public var confirm: Bool
        public var plan: StepPlan?
        /// Why no plan could be made (a precondition could not be read, or the parameters wait
        /// for an earlier step's outputs).
        public var note: String?
    }

    public var runbook: String
    public var parameters: [String: String]
    public var epoch: Epoch
    public var steps: [PlannedStep]

    /// Every precondition that could be evaluated holds.
    public var ready: Bool { steps.allSatisfy { $0.plan?.ready ?? true } }
}
