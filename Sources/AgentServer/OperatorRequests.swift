import Consensus

/// `POST /v1/maintenance` body.
public struct MaintenanceRequest: Codable, Sendable {
    public var enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }
}

/// `POST /v1/failover` and `POST /v1/switchover` body.
public struct MoveRequest: Codable, Sendable {
    /// The site to make active.
    public var to: String
    /// Failover only: the target need not look healthy.
    public var ignoreHealth: Bool?
    /// Failover only: decide without a majority (two sites, one gone). Dangerous; see the
    /// runbook before using it.
    public var withoutMajority: Bool?

    public init(to: String, ignoreHealth: Bool? = nil, withoutMajority: Bool? = nil) {
        self.to = to
        self.ignoreHealth = ignoreHealth
        self.withoutMajority = withoutMajority
    }
}

/// What an operator command answers: what the election recorded about it, and the status after.
public struct OperatorResponse: Codable, Sendable {
    public var decisions: [AuditRecord]
    public var status: AgentStatusReport
}

/// `GET /v1/status`: this agent's whole view. Contains no secrets.
public struct AgentStatusReport: Codable, Sendable {
    public var agent: String
    public var role: String
    public var active: ActiveAnswer
    public var election: ElectionStatus
    public var probes: [String: ProbeBoard.View]
    /// Undelivered alerts per webhook (scheme and host only); absent without webhooks.
    public var alerts: [AlertOutboxStatus]?
    /// This site's data plane (flows, promotion, last failover); absent for a witness.
    public var dataPlane: DataPlaneStatusReport?
}

/// One webhook's outbox in the status report.
public struct AlertOutboxStatus: Codable, Sendable, Hashable {
    /// The format and the URL's scheme and host (never its path, which may hold a token).
    public var webhook: String
    public var pending: Int
}

/// The body of every error response.
public struct ErrorBody: Codable, Sendable {
    public var error: String
}
