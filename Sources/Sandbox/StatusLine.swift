import Foundation

/// What the sandbox shows about itself: one line per second without a terminal, the lines of
/// the dashboard with one. Everything comes from the outside observer, the agents' status,
/// the ledger and the faults in force.
public struct StatusSnapshot: Sendable {
    public var elapsed: Double
    public var newest: SidecarAnswer?
    public var serving: [String: String]
    public var health: [String: String]
    public var mirror: String
    public var totals: Ledger.Totals
    public var producedPerSecond: Int
    public var deliveredPerSecond: Int
    public var faults: [String]

    /// Reads everything once; `previous` gives the rates.
    public static func take(_ session: SandboxSession, status: LabStatus, previous: StatusSnapshot?) -> StatusSnapshot {
        let totals = session.ledger.totals
        let elapsed = session.elapsed()
        let span = max(0.001, elapsed - (previous?.elapsed ?? 0))
        var serving: [String: String] = [:]
        var health: [String: String] = [:]
        for agent in LabLayout.agents { serving[agent] = status.serving(agent) }
        for site in LabLayout.sites { health[site] = status.health(of: site) }
        let mirror: String
        if let newest = session.watch.newest, let from = newest.mirrorFrom, let to = newest.mirrorTo {
            mirror = "\(from)→\(to)"
        } else {
            mirror = "—"
        }
        return StatusSnapshot(
            elapsed: elapsed, newest: session.watch.newest, serving: serving, health: health, mirror: mirror, totals: totals,
            producedPerSecond: previous.map { Int(Double(totals.acknowledged - $0.totals.acknowledged) / span) } ?? 0,
            deliveredPerSecond: previous.map { Int(Double(totals.delivered - $0.totals.delivered) / span) } ?? 0,
            faults: session.lab.activeFaults.map(\.description).sorted())
    }

    /// Acknowledged and not delivered yet: in transit, or lost if it stays so.
    public var undelivered: Int { totals.lost }

    /// The one-line form (no terminal).
    public var line: String {
        let active = newest.map { "\($0.activeSite) e\($0.epoch) \($0.effectiveState.rawValue)" } ?? "unknown"
        let sites = LabLayout.sites.map { "\($0) \(health[$0] ?? "?")" }.joined(separator: " ")
        let agents = LabLayout.agents.map { "\($0):\(serving[$0] ?? "?")" }.joined(separator: " ")
        let faultText = faults.isEmpty ? "" : " | faults: " + faults.joined(separator: ", ")
        return String(format: "%6.1fs", elapsed)
            + " | active \(active) | \(sites) | \(agents) | mirror \(mirror)"
            + " | \(producedPerSecond)/s in, \(deliveredPerSecond)/s out"
            + " | acked \(totals.acknowledged) delivered \(totals.deliveredDistinct) undelivered \(undelivered) twice \(totals.duplicated)"
            + faultText
    }
}
