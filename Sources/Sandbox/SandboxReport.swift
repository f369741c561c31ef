import Foundation

/// The JSON report of an unattended run (`--report FILE`), and its verdict.
public struct SandboxReport: Codable, Sendable {
    public struct Records: Codable, Sendable {
        public var sent: Int
        public var acknowledged: Int
        /// Sends the cluster refused or that timed out (never acknowledged, so not at risk).
        public var refused: Int
        public var delivered: Int
        /// Acknowledged and never delivered.
        public var lost: Int
        /// Deliveries beyond the first, in all.
        public var deliveredTwice: Int
        /// Delivered records that reconcile republished (`switchback-recovered` header).
        public var recoveredByReconcile: Int
        /// Deliveries beyond the first, per phase (`steady`, `unplanned`, `planned`).
        public var deliveredTwiceByPhase: [String: Int]
        /// Duplicates the scenario tolerates per phase.
        public var allowedDuplicatesByPhase: [String: Int]
        /// Up to 20 lost keys with where they had been acknowledged.
        public var lostSample: [String: Ledger.Acknowledgement]
        /// Up to 10 keys delivered twice per phase, with the phases of the extra deliveries,
        /// whether one was a reconciled copy, and where the key had been acknowledged.
        public var deliveredTwiceSample: [String: Ledger.DeliveredTwice]?
        /// Records acknowledged at the failed site that the site taking over did not hold when
        /// it began to serve (``RecordsAtRisk``); `nil` without an unplanned failover, or when
        /// it could not be measured (then ``atRiskError`` says why).
        public var atRiskAtFailure: Int?
        /// How ``atRiskAtFailure`` was made up: per partition, out of how many, and the agent's
        /// own figure.
        public var atRisk: RecordsAtRisk?
        public var atRiskError: String?
    }

    public struct StepTiming: Codable, Sendable {
        public var name: String
        public var phase: Scenario.Phase
        public var startSeconds: Double
        public var durationSeconds: Double
        public var error: String?
    }

    public struct SplitBrain: Codable, Sendable {
        /// Intervals in which two sites answered `/v1/health/active` at once.
        public var intervals: [ActiveWatch.Overlap]
        public var epochRegressions: [ActiveWatch.Regression]
        /// Sampling rounds over every agent.
        public var polls: Int
    }

    public var scenario: String
    public var rate: Double
    /// From the fault to the new site answering active alone, if the scenario has a failover.
    public var failoverSeconds: Double?
    public var records: Records
    public var splitBrain: SplitBrain
    public var steps: [StepTiming]
    public var passed: Bool
    /// Why the run failed, one sentence each; empty when it passed.
    public var problems: [String]
    /// The run's directory (kept with --keep), for the logs.
    public var directory: String

    /// The verdict: lost records, duplicates beyond what each phase allows, split brain,
    /// an epoch going backwards, a failed step.
    static func problems(records: Records, splitBrain: SplitBrain, steps: [StepTiming]) -> [String] {
        var problems: [String] = []
        for step in steps where step.error != nil { problems.append("step '\(step.name)' failed: \(step.error ?? "")") }
        if records.lost > 0 { problems.append("\(records.lost) acknowledged records were never delivered") }
        for (phase, count) in records.deliveredTwiceByPhase.sorted(by: { $0.key < $1.key }) {
            let allowed = records.allowedDuplicatesByPhase[phase] ?? 0
            if count > allowed { problems.append("\(count) records delivered twice in the \(phase) phase (allowed: \(allowed))") }
        }
        if !splitBrain.intervals.isEmpty { problems.append("\(splitBrain.intervals.count) intervals with two sites active at once") }
        if !splitBrain.epochRegressions.isEmpty { problems.append("\(splitBrain.epochRegressions.count) times an agent's epoch went backwards") }
        return problems
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
