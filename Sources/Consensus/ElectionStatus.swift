import Sites

/// What the operator API shows about one agent's election, at one instant.
public struct ElectionStatus: Hashable, Codable, Sendable {
    /// How this agent's site stands.
    public enum Serving: Hashable, Codable, Sendable {
        /// This site is active and holds a lease for this much longer.
        case active(leaseRemaining: Duration)
        /// This site is the committed active site but holds no valid lease: it must not serve.
        /// Expected for a short while after promotion; otherwise it is cut off from the
        /// majority (its cluster may be fine, but applications here pause).
        case fenced(reason: String)
        case standby
        case witness
    }

    /// One site as this agent sees it.
    public struct SiteView: Hashable, Codable, Sendable {
        public var site: SiteID
        public var subjectivelyDown: Bool
        public var objectivelyDown: Bool
        /// Voters (this one included) whose fresh view has the site down.
        public var seenDownBy: [AgentID]
        public var healthyFor: Duration?
    }

    public var agent: AgentID
    public var site: SiteID?
    public var currentEpoch: Epoch
    public var committed: SiteConfig
    public var serving: Serving
    /// The agent expected to hold the lease: the committed active site's agent.
    public var leaseHolder: AgentID?
    public var sites: [SiteView]
    /// Peers whose heartbeat is fresh.
    public var reachablePeers: [AgentID]
    public var maintenance: Bool
    public var automaticFailover: Bool
    /// Time left in the block period, if automatic changes are blocked.
    public var blockedFor: Duration?
    /// The election this agent runs, if any (`"collectingVotes e7 → dc-b"` and the like).
    public var election: String?
    public var warnings: [String]
    public var recentDecisions: [AuditRecord]
}

extension Election {
    /// A snapshot for the operator API and the dashboard.
    public func status(now: MonotonicInstant) -> ElectionStatus {
        let serving: ElectionStatus.Serving
        if mySite == nil {
            serving = .witness
        } else if state.committed.activeSite != mySite {
            serving = .standby
        } else if isServingActive(now: now), let until = lease.validUntil {
            serving = .active(leaseRemaining: until - now)
        } else if state.currentEpoch > state.committed.epoch {
            serving = .fenced(reason: "an election in \(state.currentEpoch) is under way")
        } else {
            serving = .fenced(reason: "no lease: a majority of voters has not acknowledged a renewal within \(policy.leaseDuration)")
        }
        let views = voters.sites.map { site in
            ElectionStatus.SiteView(
                site: site,
                subjectivelyDown: detector.isDown(site, now: now),
                objectivelyDown: detector.isObjectivelyDown(site, me: me, majority: voters.majority, now: now),
                seenDownBy: detector.votersSeeingDown(site, me: me, now: now),
                healthyFor: detector.healthyFor(site, now: now)
            )
        }
        let election = candidacy.map { running -> String in
            switch running.phase {
            case .collectingVotes: "collecting votes in \(running.epoch) for \(running.proposal.activeSite) (\(running.votes.count)/\(running.required))"
            case .waitingOutLease(let until): "elected in \(running.epoch); waiting \(max(until - now, .zero)) for the old lease"
            case .committing: "committing \(running.proposal) (\(running.acks.count)/\(running.required))"
            }
        }
        return ElectionStatus(
            agent: me, site: mySite, currentEpoch: state.currentEpoch, committed: state.committed,
            serving: serving, leaseHolder: voters.agent(of: state.committed.activeSite), sites: views,
            reachablePeers: detector.freshPeers(now: now).keys.sorted(), maintenance: state.maintenance.enabled,
            automaticFailover: automaticFailoverEnabled,
            blockedFor: isBlocked(now: now) ? blockedUntil.map { $0 - now } : nil,
            election: election, warnings: warnings(), recentDecisions: recentDecisions
        )
    }
}
