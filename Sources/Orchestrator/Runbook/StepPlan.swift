/// What a step would do, from a dry run (``StepAction/plan(_:)``): the preconditions as they
/// stand on the live system, and the changes the step would make.
public struct StepPlan: Sendable, Hashable, Codable {
    /// One precondition, evaluated.
    public struct Check: Sendable, Hashable, Codable {
        public var name: String
        public var satisfied: Bool
        /// What was found (a lag figure, an epoch, an error), so a failed check says why.
        public var detail: String

        public init(_ name: String, satisfied: Bool, detail: String) {
            self.name = name
            self.satisfied = satisfied
            self.detail = detail
        }
    }

    /// One sentence: what the step would do.
    public var summary: String
    public var checks: [Check]
    /// The changes `run` would make, one per line ("raise min.insync.replicas of orders to 4").
    public var changes: [String]

    public init(summary: String, checks: [Check] = [], changes: [String] = []) {
        self.summary = summary
        self.checks = checks
        self.changes = changes
    }

    /// Whether every precondition holds now.
    public var ready: Bool { checks.allSatisfy(\.satisfied) }
}

/// What a step did (``StepAction/run(_:)``).
public struct StepOutcome: Sendable, Hashable, Codable {
    /// One sentence for the audit log and `switchback runbook status`.
    public var summary: String
    /// Values later steps can use in `when:`, `assert` and `${step.key}` (strings; the
    /// expression language compares them as numbers when both sides are numbers).
    public var outputs: [String: String]
    /// The run acts for this epoch from the next step on (set by the step that commits one,
    /// e.g. a planned switchover's commit); `nil` leaves it unchanged.
    public var epoch: Epoch?
    /// Whether operators should be alerted about this outcome, not only audited (records
    /// recovered by reconcile, a failover's RPO/RTO).
    public var alert: Bool

    public init(summary: String, outputs: [String: String] = [:], epoch: Epoch? = nil, alert: Bool = false) {
        self.summary = summary
        self.outputs = outputs
        self.epoch = epoch
        self.alert = alert
    }
}

import Consensus
