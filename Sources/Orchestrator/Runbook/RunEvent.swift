import Consensus
import Foundation

/// One line of a run's journal, and the event the run's state machine is driven by: the
/// engine writes an event (fsynced) before it lets it take effect, so replaying the journal
/// rebuilds the state the run was in when the agent died.
public enum RunEvent: Sendable, Hashable, Codable {
    /// The run began: everything needed to resume it without the runbook file.
    case started(RunStart)
    /// An attempt of a step is about to run (written before the action is called).
    case stepStarted(step: String, attempt: Int)
    /// An attempt ended (written after the action returned or threw).
    case stepSucceeded(step: String, attempt: Int, outcome: StepOutcome)
    case stepFailed(step: String, attempt: Int, error: StepActionError)
    /// The step did not run: its `when` was false.
    case stepSkipped(step: String, reason: String)
    /// An operator (or `--yes`) answered the step's question.
    case answered(step: String, answer: ConfirmationAnswer, by: String)
    /// After a restart, the interrupted step's action said what to do (``StepResumption``).
    case resumed(step: String, resumption: JournaledResumption)
    /// The run is over; a journal ending with this is not resumed.
    case finished(RunResult)
}

/// What a run was started with.
public struct RunStart: Sendable, Hashable, Codable {
    public var runID: String
    public var runbook: String
    public var source: String
    public var parameters: [String: String]
    public var epoch: Epoch
    /// `--yes`: confirmations are answered yes (not the question after a crash inside a step
    /// that cannot be re-run safely: that one always waits for a person).
    public var assumeYes: Bool
    public var startedAt: Date
    public var startedBy: String

    public init(runID: String, runbook: String, source: String, parameters: [String: String], epoch: Epoch, assumeYes: Bool, startedAt: Date, startedBy: String) {
        self.runID = runID
        self.runbook = runbook
        self.source = source
        self.parameters = parameters
        self.epoch = epoch
        self.assumeYes = assumeYes
        self.startedAt = startedAt
        self.startedBy = startedBy
    }
}

/// An operator's answer to a step's question.
public enum ConfirmationAnswer: String, Sendable, Hashable, Codable, CaseIterable {
    /// Run the step (again, after a crash inside it).
    case yes
    /// Do not run it: the run ends aborted.
    case no
    /// Only after a crash inside the step: it took effect, record it done and go on.
    case skip
}

/// ``StepResumption`` as journaled.
public enum JournaledResumption: Sendable, Hashable, Codable {
    case rerun
    case completed(StepOutcome)
    case needsOperator(String)

    init(_ resumption: StepResumption) {
        switch resumption {
        case .rerun: self = .rerun
        case .completed(let outcome): self = .completed(outcome)
        case .needsOperator(let reason): self = .needsOperator(reason)
        }
    }
}

/// How a run ended.
public struct RunResult: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case succeeded, failed, aborted
    }

    public var status: Status
    public var summary: String
    /// The step that failed or was declined, if any.
    public var step: String?

    public init(_ status: Status, _ summary: String, step: String? = nil) {
        self.status = status
        self.summary = summary
        self.step = step
    }
}
