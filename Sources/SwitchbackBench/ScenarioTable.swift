import Sandbox

/// What `switchback-bench scenario` prints: a line per run, and at the end the percentiles
/// and the outcome counts.
struct ScenarioTable {
    var scenario: String
    var rate: Double
    var trials: ScenarioTrials

    /// The build the figures were measured in (it changes them: CI builds debug).
    static var build: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }

    var rendered: String {
        let times = trials.failoverSeconds
        let risks = trials.recordsAtRisk
        func seconds(_ value: Double?) -> String { value.map { TextTable.format($0, decimals: 2) } ?? "-" }
        func count(_ value: Int?) -> String { value.map(String.init) ?? "-" }
        let figures = TextTable(
            header: ["figure", "runs", "p50", "p99", "max"],
            rows: [
                ["failover time (s)", String(times.count), seconds(ScenarioTrials.percentile(times, 0.5)),
                 seconds(ScenarioTrials.percentile(times, 0.99)), seconds(times.last)],
                ["records at risk at the failure", String(risks.count), count(ScenarioTrials.percentile(risks, 0.5)),
                 count(ScenarioTrials.percentile(risks, 0.99)), count(risks.last)],
            ])
        let outcomes = TextTable(
            header: ["outcome", "runs"],
            rows: [["passed", String(trials.passed)], ["failed", String(trials.failed)]]
                + trials.failureCounts.map { ["  " + $0.reason, String($0.runs)] })
        return [
            "scenario \(scenario): \(trials.outcomes.count) runs at \(TextTable.format(rate, decimals: 0)) records/s, \(Self.build) build",
            figures.rendered,
            "",
            outcomes.rendered,
            "p99 is the nearest rank: with fewer than 100 runs it is the largest value. A failed run counts under each of its reasons.",
        ].joined(separator: "\n")
    }

    /// One run: verdict, figures, and why it failed.
    static func line(_ outcome: ScenarioTrials.Outcome, label: String) -> String {
        guard case .report(let report) = outcome else {
            if case .notStarted(let why) = outcome { return "\(label)  FAILED  the lab did not start: \(why)" }
            return "\(label)  FAILED"
        }
        let records = report.records
        var line = "\(label)  \(report.passed ? "PASSED" : "FAILED")"
            + "  failover " + (report.failoverSeconds.map { TextTable.format($0, decimals: 2) + " s" } ?? "-")
            + "  acked \(records.acknowledged)  lost \(records.lost)  twice \(records.deliveredTwice)"
            + "  recovered \(records.recoveredByReconcile)"
            + "  at-risk " + (records.atRiskAtFailure.map(String.init) ?? "-")
            + (records.atRisk.map { " (agent " + ($0.reportedByAgent.map(String.init) ?? "-") + ")" } ?? "")
            + "  split-brain \(report.splitBrain.intervals.count)"
        if !report.problems.isEmpty { line += "\n    why: " + report.problems.joined(separator: "\n    why: ") }
        for (phase, count) in records.deliveredTwiceByPhase.sorted(by: { $0.key < $1.key }) where count > records.allowedDuplicatesByPhase[phase] ?? 0 {
            let keys = (records.deliveredTwiceSample ?? [:]).filter { $0.value.extraPhases.contains(phase) }.sorted { $0.key < $1.key }.prefix(5)
            guard !keys.isEmpty else { continue }
            line += "\n    twice in the \(phase) phase: " + keys.map { key, twice in
                key + (twice.acknowledgement.map { " (acked \($0.site) \($0.topic)/\($0.partition)@\($0.offset)" } ?? " (not acked")
                    + (twice.recovered ? ", one delivery a reconciled copy)" : ")")
            }.joined(separator: ", ")
        }
        if let error = records.atRiskError { line += "\n    at-risk not measured: \(error)" }
        return line
    }
}
