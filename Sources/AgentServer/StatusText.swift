import Consensus
import Foundation

/// Human-readable renderings of operator API answers for the command line.
public enum StatusText {
    public static func render(_ report: AgentStatusReport) -> String {
        let election = report.election
        var lines: [String] = []
        lines.append("agent \(report.agent) (\(report.role))")
        lines.append("active site: \(report.active.activeSite) in epoch \(report.active.epoch) since \(iso(report.active.since)); bootstrap \(report.active.bootstrapServers.joined(separator: ","))")
        lines.append("sidecar state: \(report.active.state)\(report.active.servingHere ? " (serving here)" : "")")
        lines.append("mirror: \(report.active.mirrorFrom) → \(report.active.mirrorTo)")
        if let dataPlane = report.dataPlane { lines.append(contentsOf: render(dataPlane)) }
        lines.append("this agent: \(serving(election.serving)); current epoch \(election.currentEpoch.rawValue); lease holder \(election.leaseHolder?.rawValue ?? "-")")
        lines.append("automatic failover: \(election.automaticFailover ? "on" : "OFF")\(election.maintenance ? "; MAINTENANCE mode" : "")\(election.blockedFor.map { "; blocked for \(seconds($0))" } ?? "")")
        if let running = election.election { lines.append("election: \(running)") }
        lines.append("reachable peers: \(election.reachablePeers.map(\.rawValue).joined(separator: ", ").ifEmpty("none"))")
        lines.append("sites:")
        for view in election.sites {
            let probe = report.probes[view.site.rawValue]
            let state = view.objectivelyDown ? "DOWN (majority)" : view.subjectivelyDown ? "down (this agent)" : "up"
            let probeText = probe.map { $0.healthy ? "probe ok \($0.latencyMilliseconds) ms" : "probe failed: \($0.failure ?? "?")" } ?? "not probed yet"
            lines.append("  \(view.site.rawValue): \(state); \(probeText); seen down by [\(view.seenDownBy.map(\.rawValue).joined(separator: ", "))]")
        }
        for outbox in report.alerts ?? [] { lines.append("alerts to \(outbox.webhook): \(outbox.pending) undelivered") }
        for warning in election.warnings { lines.append("warning: \(warning)") }
        if !election.recentDecisions.isEmpty {
            lines.append("recent decisions:")
            for record in election.recentDecisions.suffix(10) { lines.append("  \(record)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The data plane's lines: phase and promotion step, each flow, the last failover.
    static func render(_ dataPlane: DataPlaneStatusReport) -> [String] {
        var lines = ["data plane: \(dataPlane.phase)\(dataPlane.promotionStep.map { "; promotion at step \($0)" } ?? "")"]
        if dataPlane.flows.isEmpty { lines.append("flows: none into this site") }
        for flow in dataPlane.flows {
            let lag = flow.lag.map { "lag \($0) records" } ?? "lag unknown yet"
            let reverse = flow.reverseOf.map { "; reverses \($0)" } ?? ""
            lines.append("  flow \(flow.from) → \(flow.to): \(flow.phase); \(lag)\(reverse)")
            for (group, age) in flow.checkpointAges.sorted(by: { $0.key < $1.key }) {
                lines.append("    group \(group): checkpoint \(String(format: "%.1f", age)) s old")
            }
        }
        if let failover = dataPlane.lastFailover { lines.append("last failover: \(failover)") }
        if let reconcile = dataPlane.lastReconcile {
            lines.append("last reconcile: \(reconcile.recoveredCount) record(s) recovered")
            for partition in reconcile.partitions where partition.count > 0 {
                lines.append("  \(partition.topic)/\(partition.partition): \(partition.count) (offsets \(partition.firstSourceOffset ?? -1)…\(partition.lastSourceOffset ?? -1))")
            }
        }
        return lines
    }

    public static func render(_ response: OperatorResponse) -> String {
        var lines = response.decisions.map { "decision: \($0)" }
        if lines.isEmpty { lines.append("no decision recorded") }
        lines.append(render(response.status))
        return lines.joined(separator: "\n")
    }

    static func serving(_ serving: ElectionStatus.Serving) -> String {
        switch serving {
        case .active(let remaining): "ACTIVE (lease \(seconds(remaining)) left)"
        case .fenced(let reason): "FENCED: \(reason)"
        case .standby: "standby"
        case .witness: "witness"
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        return ms < 10_000 ? "\(ms) ms" : "\(ms / 1000) s"
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}

extension String {
    fileprivate func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
