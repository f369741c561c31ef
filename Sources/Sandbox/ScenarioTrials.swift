/// Many runs of one scenario on fresh labs (issue 12's closing figures): the failover times and
/// records at risk over the runs that measured them, and how many runs passed or failed and why.
public struct ScenarioTrials: Sendable {
    /// One run: its report, or why no lab could be started for it.
    public enum Outcome: Sendable {
        case report(SandboxReport)
        case notStarted(String)
    }

    public private(set) var outcomes: [Outcome] = []

    public init() {}

    public mutating func add(_ outcome: Outcome) { outcomes.append(outcome) }

    public var reports: [SandboxReport] {
        outcomes.compactMap { if case .report(let report) = $0 { report } else { nil } }
    }

    /// The failover time of every run that completed its failover, in seconds, ascending.
    public var failoverSeconds: [Double] { reports.compactMap(\.failoverSeconds).sorted() }

    /// The records at risk of every run that measured them, ascending.
    public var recordsAtRisk: [Int] { reports.compactMap(\.records.atRiskAtFailure).sorted() }

    public var passed: Int { reports.filter(\.passed).count }

    public var failed: Int { outcomes.count - passed }

    /// For each reason a run failed, how many runs failed for it (a run may count under several).
    public var failureCounts: [(reason: String, runs: Int)] {
        var counts: [String: Int] = [:]
        for outcome in outcomes {
            for reason in Set(Self.reasons(outcome)) { counts[reason, default: 0] += 1 }
        }
        return counts.map { (reason: $0.key, runs: $0.value) }.sorted { ($0.runs, $1.reason) > ($1.runs, $0.reason) }
    }

    /// Why a run failed, one short phrase per kind of problem, free of the run's own figures so
    /// that runs failing the same way count together; empty when it passed. The report's
    /// ``SandboxReport/problems`` has the whole sentences.
    public static func reasons(_ outcome: Outcome) -> [String] {
        guard case .report(let report) = outcome else { return ["the lab did not start"] }
        var reasons = report.steps.filter { $0.error != nil }.map { "step '\($0.name)' failed" }
        if report.records.lost > 0 { reasons.append("acknowledged records lost") }
        for (phase, count) in report.records.deliveredTwiceByPhase.sorted(by: { $0.key < $1.key })
        where count > report.records.allowedDuplicatesByPhase[phase] ?? 0 {
            reasons.append("delivered twice beyond the allowance in the \(phase) phase")
        }
        if !report.splitBrain.intervals.isEmpty { reasons.append("split brain (two sites active at once)") }
        if !report.splitBrain.epochRegressions.isEmpty { reasons.append("an agent's epoch went backwards") }
        if reasons.isEmpty, !report.passed { reasons = report.problems }
        return reasons
    }

    /// The nearest-rank percentile of ascending `values`: the smallest value with at least
    /// `fraction` of the values at or below it (with fewer than 100 values, p99 is the largest).
    public static func percentile<Value>(_ values: [Value], _ fraction: Double) -> Value? {
        guard !values.isEmpty else { return nil }
        let rank = Int((fraction * Double(values.count)).rounded(.up))
        return values[min(max(rank, 1), values.count) - 1]
    }
}
