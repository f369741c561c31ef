import Consensus
import Mirror
import Sites

extension AgentConfiguration {
    /// This agent's voter identity: its site or witness name.
    public var agentID: AgentID { AgentID(name.rawValue) }

    /// The voters: each site's agent (named after its site) and each witness.
    /// - Throws: `ElectionConfigError` when the sites and witnesses do not make an election.
    public func voters() throws(ElectionConfigError) -> Voters {
        var members: [SiteID: AgentID] = [:]
        for site in sites { members[site.name] = AgentID(site.name.rawValue) }
        return try Voters(members: members, witnesses: witnesses.map { AgentID($0.name.rawValue) })
    }

    /// Whether the agents may fail over on their own: configured, and possible with these voters.
    public var automaticFailoverEnabled: Bool {
        failover.automatic && !(sites.count == 2 && witnesses.isEmpty)
    }

    /// The election's timings and switches from `detection:` and `failover:`.
    public func electionPolicy() -> ElectionPolicy {
        var policy = ElectionPolicy(
            homeSite: failover.homeSite,
            probeInterval: detection.probeInterval,
            downAfter: detection.downAfter,
            heartbeatStaleness: detection.heartbeatStaleness,
            leaseDuration: detection.lease,
            blockPeriod: failover.blockPeriod,
            failback: failover.failback,
            automaticFailover: automaticFailoverEnabled)
        if let margin = detection.leaseSafetyMargin { policy.leaseSafetyMargin = margin }
        if let backoff = failover.candidateBackoff { policy.candidateBackoff = backoff }
        if let timeout = failover.electionTimeout { policy.electionTimeout = timeout }
        if detection.leaseSafetyMargin == nil {
            // The default margin (200 ms) is sized for a 4 s lease; keep it proportional.
            policy.leaseSafetyMargin = min(policy.leaseSafetyMargin, detection.lease / 20)
        }
        return policy
    }

    /// The configuration before any election: the home site active, mirroring to the next site.
    public var initialSiteConfig: SiteConfig {
        let home = failover.homeSite
        let standby = sites.first { $0.name != home }?.name ?? home
        return SiteConfig.initial(activeSite: home, standbySite: standby)
    }

    /// The base URL of every other voter's agent.
    public var peerURLs: [AgentID: String] {
        var result: [AgentID: String] = [:]
        for site in sites where site.name != name { result[AgentID(site.name.rawValue)] = site.agentURL }
        for witness in witnesses where witness.name != name { result[AgentID(witness.name.rawValue)] = witness.agentURL }
        return result
    }
}
