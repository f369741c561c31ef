import AgentServer
import Foundation
import Logging

/// The records at risk when a site failed (issue 12): acknowledged at the failed site and not
/// copied to the site that took over. They are lost if the failed site never returns, and are
/// what `reconcile` must recover when it does (the RPO of that failover, in records).
///
/// Measured from outside the agents, when the new site first serves alone: the ledger's
/// acknowledgements at the failed site against the keys the new site's cluster holds in the
/// failed site's mirrored topic (`dc-a.orders` under the `prefix` policy). A blackholed cluster
/// gives nothing more after the fault and the promotion stops the flow before the new site
/// serves, so this is the flow's unmirrored tail at the moment of the failure; records the flow
/// had fetched but not yet written when the fault came count as copied, since they were.
public struct RecordsAtRisk: Codable, Sendable, Hashable {
    public var failedSite: String
    public var newSite: String
    /// Records acknowledged at the failed site from the start of the run to the measurement.
    public var acknowledgedAtFailedSite: Int
    /// Of those, the ones the new site's cluster did not hold: the records at risk.
    public var count: Int
    /// ``count`` per source partition (`orders/0`), partitions without records at risk left out.
    public var byPartition: [String: Int]
    /// The new active agent's own figure (the unmirrored tail in its failover report, from the
    /// source's last known log ends), for comparison; `nil` when it reported none.
    public var reportedByAgent: Int?
    /// Seconds from the fault to the measurement.
    public var measuredAfterSeconds: Double

    /// The acknowledgements whose keys are not among `copied`: how many, and how many per
    /// source partition (`topic/partition`).
    static func tally(acknowledged: [String: Ledger.Acknowledgement], copied: Set<String>) -> (count: Int, byPartition: [String: Int]) {
        var byPartition: [String: Int] = [:]
        for (key, acknowledgement) in acknowledged where !copied.contains(key) {
            byPartition["\(acknowledgement.topic)/\(acknowledgement.partition)", default: 0] += 1
        }
        return (byPartition.values.reduce(0, +), byPartition)
    }

    /// Measures now, in a running session after `failedSite` failed at `fault` and `newSite`
    /// took over (call it before the failed site heals: reconcile then copies the tail over).
    /// - Throws: ``SandboxError`` when the new site's cluster cannot be read.
    static func measure(
        _ session: SandboxSession, failed failedSite: String, newSite: String, fault: ContinuousClock.Instant, logger: Logger
    ) async throws -> RecordsAtRisk {
        guard let bootstrap = session.lab.bootstrap[newSite] else {
            throw SandboxError("no cluster at \(newSite); sites are \(LabLayout.sites.joined(separator: ", "))")
        }
        // Taken before the copy is read: every acknowledgement counted had its chance to be copied.
        let acknowledged = session.ledger.acknowledgements(at: failedSite).filter { $0.value.topic == LabLayout.topic }
        let copies = try await TopicKeys.read(LabLayout.copyTopic(of: failedSite), at: bootstrap, logger: logger)
        let measured = ContinuousClock.now
        let tally = tally(acknowledged: acknowledged, copied: copies.values.reduce(into: Set<String>()) { $0.formUnion($1) })
        return RecordsAtRisk(
            failedSite: failedSite, newSite: newSite, acknowledgedAtFailedSite: acknowledged.count, count: tally.count,
            byPartition: tally.byPartition, reportedByAgent: await agentFigure(session.lab, failed: failedSite, newSite: newSite),
            measuredAfterSeconds: (measured - fault).seconds)
    }

    /// The unmirrored tail the new active agent put in its failover report, if it made one
    /// for this move.
    static func agentFigure(_ lab: Lab, failed failedSite: String, newSite: String) async -> Int? {
        guard let answer = await lab.http.get(lab.layout.agentURL(newSite) + "/v1/status", bearer: lab.layout.operatorToken, timeout: .seconds(2)),
            answer.status == 200
        else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let failover = (try? decoder.decode(AgentStatusReport.self, from: answer.body))?.dataPlane?.lastFailover,
            failover.fromSite == failedSite, failover.toSite == newSite
        else { return nil }
        return Int(failover.recordsAtRiskTotal)
    }
}
