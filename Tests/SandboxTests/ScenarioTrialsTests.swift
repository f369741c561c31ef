import Testing

@testable import Sandbox

/// The figures of many scenario runs: nearest-rank percentiles over the runs that measured
/// them, and failed runs counted by reason.
@Suite struct ScenarioTrialsTests {
    static func report(failover: Double?, atRisk: Int?, lost: Int = 0, twice: [String: Int] = [:], failedStep: String? = nil) -> SandboxReport {
        var records = SandboxReportTests.records(lost: lost, twice: twice)
        records.atRiskAtFailure = atRisk
        let steps = [SandboxReport.StepTiming(name: "steady state", phase: .steady, startSeconds: 0, durationSeconds: 8, error: nil)]
            + (failedStep.map { [SandboxReport.StepTiming(name: $0, phase: .planned, startSeconds: 30, durationSeconds: 60, error: "did not finish within 60 s")] } ?? [])
        let problems = SandboxReport.problems(records: records, splitBrain: SandboxReportTests.whole, steps: steps)
        return SandboxReport(
            scenario: "failover-failback", rate: 200, failoverSeconds: failover, records: records, splitBrain: SandboxReportTests.whole,
            steps: steps, passed: problems.isEmpty, problems: problems, directory: "/tmp/x")
    }

    @Test func nearestRankPercentiles() {
        let values = (1...20).map(Double.init)
        #expect(ScenarioTrials.percentile(values, 0.5) == 10)
        #expect(ScenarioTrials.percentile(values, 0.99) == 20)
        #expect(ScenarioTrials.percentile([4], 0.5) == 4)
        #expect(ScenarioTrials.percentile([Int](), 0.5) == nil)
        #expect(ScenarioTrials.percentile(Array(1...200), 0.99) == 198)
    }

    @Test func figuresComeFromTheRunsThatMeasuredThem() {
        var trials = ScenarioTrials()
        trials.add(.report(Self.report(failover: 3.5, atRisk: 40)))
        trials.add(.report(Self.report(failover: 2.5, atRisk: 10)))
        trials.add(.report(Self.report(failover: nil, atRisk: nil, failedStep: "automatic failover to dc-b")))
        trials.add(.notStarted("broker dc-a exited with status 1"))
        #expect(trials.failoverSeconds == [2.5, 3.5])
        #expect(trials.recordsAtRisk == [10, 40])
        #expect(trials.passed == 2)
        #expect(trials.failed == 2)
    }

    @Test func failedRunsCountUnderEachOfTheirReasons() {
        var trials = ScenarioTrials()
        trials.add(.report(Self.report(failover: 3, atRisk: 5)))
        trials.add(.report(Self.report(failover: 3, atRisk: 5, failedStep: "planned failback to dc-a")))
        trials.add(.report(Self.report(failover: 3, atRisk: 5, lost: 2, failedStep: "planned failback to dc-a")))
        trials.add(.report(Self.report(failover: 3, atRisk: 5, twice: ["planned": 4])))
        trials.add(.notStarted("agent dc-b exited"))
        let counts = Dictionary(uniqueKeysWithValues: trials.failureCounts.map { ($0.reason, $0.runs) })
        #expect(counts == [
            "step 'planned failback to dc-a' failed": 2, "acknowledged records lost": 1,
            "delivered twice beyond the allowance in the planned phase": 1, "the lab did not start": 1,
        ])
        #expect(trials.failureCounts.first?.reason == "step 'planned failback to dc-a' failed")
        #expect(ScenarioTrials.reasons(trials.outcomes[0]).isEmpty)
    }
}
