import AgentServer
import Foundation

/// Every agent's `/v1/status` at one moment, and the lab-wide facts read from them.
public struct LabStatus: Sendable {
    /// The agents that answered.
    public var reports: [String: AgentStatusReport]

    public static func read(_ lab: Lab) async -> LabStatus {
        let reports = await withTaskGroup(of: (String, AgentStatusReport?).self) { group in
            for agent in LabLayout.agents {
                group.addTask {
                    let answer = await lab.http.get(lab.layout.agentURL(agent) + "/v1/status", bearer: lab.layout.operatorToken, timeout: .milliseconds(800))
                    let decoder = JSONDecoder()
                    decoder.dateDecodingStrategy = .iso8601
                    return (agent, answer.flatMap { $0.status == 200 ? try? decoder.decode(AgentStatusReport.self, from: $0.body) : nil })
                }
            }
            var reports: [String: AgentStatusReport] = [:]
            for await (agent, report) in group { if let report { reports[agent] = report } }
            return reports
        }
        return LabStatus(reports: reports)
    }

    /// Every agent answers, hears both others, and sees both clusters up.
    public var isWhole: Bool {
        LabLayout.agents.allSatisfy { agent in
            guard let election = reports[agent]?.election else { return false }
            let others = LabLayout.agents.filter { $0 != agent }
            return others.allSatisfy { other in election.reachablePeers.contains { $0.rawValue == other } }
                && election.sites.allSatisfy { !$0.subjectivelyDown }
        }
    }

    /// How the voters see `site`'s cluster: `up` when a majority's probes are healthy.
    public func health(of site: String) -> String {
        let views = reports.values.compactMap { $0.probes[site] }
        guard !views.isEmpty else { return "?" }
        let healthy = views.filter(\.healthy).count
        return healthy * 2 > views.count ? "up" : "DOWN"
    }

    /// How `agent` serves: active, standby, fenced, witness, or `no answer`.
    public func serving(_ agent: String) -> String {
        guard let serving = reports[agent]?.election.serving else { return "no answer" }
        switch serving {
        case .active: return "active"
        case .standby: return "standby"
        case .fenced: return "fenced"
        case .witness: return "witness"
        }
    }
}

/// The last entries of every agent's audit log, newest last.
func recentAuditEvents(_ layout: LabLayout, count: Int) -> [AuditEntry] {
    var entries: [AuditEntry] = []
    for agent in LabLayout.agents {
        let path = layout.agentDirectory(agent).appendingPathComponent("audit.jsonl").path
        entries += ((try? AuditLog.read(path: path)) ?? []).suffix(count)
    }
    return Array(entries.sorted { $0.time < $1.time }.suffix(count))
}
