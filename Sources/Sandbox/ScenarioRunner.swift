import Foundation
import Logging

/// Runs a scenario's steps against a session, then drains the workload and writes the report.
public struct ScenarioRunner: Sendable {
    public let scenario: Scenario
    /// The group checkpoint interval: an unplanned failover may deliver twice what the group
    /// consumed in this long just before the fault (its position at the new site is that
    /// stale at most).
    public let checkpointInterval: Duration
    public let progress: @Sendable (String) -> Void

    public init(scenario: Scenario, checkpointInterval: Duration = .seconds(1), progress: @escaping @Sendable (String) -> Void) {
        self.scenario = scenario
        self.checkpointInterval = checkpointInterval
        self.progress = progress
    }

    public func run(_ session: SandboxSession) async -> SandboxReport {
        let clock = ScenarioClock()
        var timings: [SandboxReport.StepTiming] = []
        var failoverSeconds: Double?
        var atRisk: Result<RecordsAtRisk, SandboxError>?
        progress("scenario \(scenario.name): \(scenario.summary)")
        for step in scenario.steps {
            session.ledger.enter(phase: step.phase.rawValue)
            let started = ContinuousClock.now
            progress("step: \(step.name)")
            var failure: String?
            do {
                try await step.action(session, clock)
            } catch is CancellationError {
                failure = "interrupted"
            } catch {
                failure = "\(error)"
            }
            let duration = (ContinuousClock.now - started).seconds
            if step.failover != nil, failure == nil, let serving = session.watch.firstServing(
                session.watch.activeSite ?? "", since: clock.fault)
            {
                failoverSeconds = (serving - clock.fault).seconds
            }
            timings.append(.init(name: step.name, phase: step.phase, startSeconds: session.elapsed(started), durationSeconds: duration, error: failure))
            progress("step done: \(step.name) in \(String(format: "%.1f", duration)) s" + (failure.map { " — FAILED: \($0)" } ?? ""))
            if let failover = step.failover, failure == nil {
                atRisk = await measureRisk(session, failover, fault: clock.fault)
            }
            if failure != nil || Task.isCancelled { break }
        }
        progress("draining: producer stopped, waiting for every acknowledged record to be delivered")
        await session.drain()
        return report(session, timings: timings, failoverSeconds: failoverSeconds, atRisk: atRisk, fault: clock.faultMarked ? clock.fault : nil)
    }

    /// Takes the records at risk right after the failover completed, before the failed site
    /// heals and reconcile copies them over.
    private func measureRisk(_ session: SandboxSession, _ failover: Scenario.Failover, fault: ContinuousClock.Instant) async
        -> Result<RecordsAtRisk, SandboxError>
    {
        var logger = Logger(label: "switchback.sandbox.at-risk")
        logger.logLevel = .critical
        do {
            let risk = try await RecordsAtRisk.measure(session, failed: failover.from, newSite: failover.to, fault: fault, logger: logger)
            progress("records at risk at \(failover.from)'s failure: \(risk.count) of \(risk.acknowledgedAtFailedSite) acknowledged there were not at \(failover.to)"
                + (risk.reportedByAgent.map { " (agent \(failover.to) reported \($0))" } ?? ""))
            return .success(risk)
        } catch let error as SandboxError {
            progress("records at risk at \(failover.from)'s failure not measured: \(error)")
            return .failure(error)
        } catch {
            progress("records at risk at \(failover.from)'s failure not measured: \(error)")
            return .failure(SandboxError("\(error)"))
        }
    }

    func report(
        _ session: SandboxSession, timings: [SandboxReport.StepTiming], failoverSeconds: Double?,
        atRisk: Result<RecordsAtRisk, SandboxError>? = nil, fault: ContinuousClock.Instant?
    ) -> SandboxReport {
        let totals = session.ledger.totals
        let perInterval = Double(fault.map { session.ledger.deliveries(inSecondBefore: $0) } ?? 0) * checkpointInterval.seconds
        let records = SandboxReport.Records(
            sent: totals.sent, acknowledged: totals.acknowledged, refused: totals.refused, delivered: totals.delivered,
            lost: totals.lost, deliveredTwice: totals.duplicated, recoveredByReconcile: totals.recovered,
            deliveredTwiceByPhase: session.ledger.duplicatesByPhase,
            allowedDuplicatesByPhase: ["steady": 0, "unplanned": Int(perInterval.rounded(.up)), "planned": 0],
            lostSample: session.ledger.lostKeys(limit: 20), deliveredTwiceSample: session.ledger.deliveredTwice(limitPerPhase: 10),
            atRiskAtFailure: try? atRisk?.get().count, atRisk: try? atRisk?.get(),
            atRiskError: atRisk.flatMap { if case .failure(let error) = $0 { error.message } else { nil } })
        let splitBrain = SandboxReport.SplitBrain(
            intervals: session.watch.overlaps, epochRegressions: session.watch.regressions, polls: session.watch.polls)
        let problems = SandboxReport.problems(records: records, splitBrain: splitBrain, steps: timings)
        return SandboxReport(
            scenario: scenario.name, rate: session.rate, failoverSeconds: failoverSeconds,
            records: records, splitBrain: splitBrain, steps: timings, passed: problems.isEmpty, problems: problems,
            directory: session.lab.layout.directory.path)
    }
}
