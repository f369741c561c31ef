import Consensus
import Sites

/// A clock that moves only when the test says so.
struct ManualClock {
    private(set) var now: MonotonicInstant

    init(start: MonotonicInstant = .origin) { self.now = start }

    mutating func advance(by duration: Duration) { now = now + duration }
}

/// The three-voter setup most tests use: dc-a (active), dc-b (standby) and a witness.
enum Fixture {
    static let siteA: SiteID = "dc-a"
    static let siteB: SiteID = "dc-b"
    static let agentA: AgentID = "agent-a"
    static let agentB: AgentID = "agent-b"
    static let witness: AgentID = "witness"

    static func voters(withWitness: Bool = true) throws -> Voters {
        try Voters(members: [siteA: agentA, siteB: agentB], witnesses: withWitness ? [witness] : [])
    }

    /// Short timings so simulations stay small: probes every 500 ms, down after 1.5 s, leases of 2 s.
    static func policy(
        failback: FailbackPolicy = .manual, blockPeriod: Duration = .seconds(30), automaticFailover: Bool = true
    ) -> ElectionPolicy {
        ElectionPolicy(
            homeSite: siteA, probeInterval: .milliseconds(500), downAfter: .milliseconds(1500),
            heartbeatStaleness: .seconds(3), leaseDuration: .seconds(2), leaseSafetyMargin: .milliseconds(100),
            candidateBackoff: .seconds(1), electionTimeout: .seconds(2), blockPeriod: blockPeriod,
            failback: failback, automaticFailover: automaticFailover
        )
    }

    static let initialConfig = SiteConfig.initial(activeSite: siteA, standbySite: siteB)
    static let initialState = ElectionState.initial(initialConfig)
}

extension [ElectionAction] {
    var persisted: [ElectionState] {
        compactMap { if case .persist(let state) = $0 { state } else { nil } }
    }

    var sent: [(PeerMessage, AgentID?)] {
        compactMap {
            switch $0 {
            case .send(let message, let to): (message, to)
            case .broadcast(let message): (message, nil)
            default: nil
            }
        }
    }

    var audits: [AuditRecord] {
        compactMap { if case .audit(let record) = $0 { record } else { nil } }
    }

    var voteResponses: [VoteResponse] {
        sent.compactMap { if case .voteResponse(let response) = $0.0.body { response } else { nil } }
    }

    var voteRequests: [VoteRequest] {
        sent.compactMap { if case .voteRequest(let request) = $0.0.body { request } else { nil } }
    }
}
