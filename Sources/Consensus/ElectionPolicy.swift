import Sites

/// When to return to the original site after an automatic failover.
public enum FailbackPolicy: Hashable, Sendable {
    /// Only an operator fails back (the default: the old site's data must be reconciled first).
    case manual
    /// Fail back on its own once the original site has been continuously healthy this long.
    case automatic(healthyFor: Duration)
}

/// Timings and switches of the election (`detection:` and `failover:` in the agent config).
public struct ElectionPolicy: Hashable, Sendable {
    /// How often heartbeats and lease renewals go out (and probes are expected to run).
    public var probeInterval: Duration
    /// A site without a good probe for this long is subjectively down.
    public var downAfter: Duration
    /// A peer's heartbeat counts toward "objectively down" for this long after it arrived.
    public var heartbeatStaleness: Duration
    /// How long a lease renewal acknowledged by a majority lets the active site serve.
    public var leaseDuration: Duration
    /// How much earlier the lease holder considers its lease over than the voters do, to
    /// absorb clock rate differences between machines: it must be at least
    /// `leaseDuration × 2ρ`, where ρ is the largest relative rate error of any agent's
    /// monotonic clock (the default, 200 ms of 4 s, covers ρ = 2.5 %).
    public var leaseSafetyMargin: Duration
    /// Upper bound of the random wait before standing as candidate; spreads out candidates so
    /// they do not split the vote forever.
    public var candidateBackoff: Duration
    /// A candidate that has not won (or not committed) within this gives up.
    public var electionTimeout: Duration
    /// After an automatic failover (or failback), further automatic changes wait this long.
    public var blockPeriod: Duration
    public var failback: FailbackPolicy
    /// Whether the agents fail over on their own at all.
    public var automaticFailover: Bool
    /// The site automatic failback returns to.
    public var homeSite: SiteID

    public init(
        homeSite: SiteID,
        probeInterval: Duration = .seconds(1),
        downAfter: Duration = .seconds(5),
        heartbeatStaleness: Duration? = nil,
        leaseDuration: Duration = .seconds(4),
        leaseSafetyMargin: Duration = .milliseconds(200),
        candidateBackoff: Duration = .seconds(2),
        electionTimeout: Duration = .seconds(5),
        blockPeriod: Duration = .seconds(600),
        failback: FailbackPolicy = .manual,
        automaticFailover: Bool = true
    ) {
        self.homeSite = homeSite
        self.probeInterval = probeInterval
        self.downAfter = downAfter
        self.heartbeatStaleness = heartbeatStaleness ?? downAfter * 2
        self.leaseDuration = leaseDuration
        self.leaseSafetyMargin = leaseSafetyMargin
        self.candidateBackoff = candidateBackoff
        self.electionTimeout = electionTimeout
        self.blockPeriod = blockPeriod
        self.failback = failback
        self.automaticFailover = automaticFailover
    }

    /// Checks the relations the safety argument relies on.
    /// - Throws: `ElectionConfigError` naming the key to fix.
    public func validate(voters: Voters) throws(ElectionConfigError) {
        let zero = Duration.zero
        for (key, value) in [
            ("detection.probe_interval", probeInterval), ("detection.down_after", downAfter),
            ("detection.lease", leaseDuration), ("failover.election_timeout", electionTimeout),
        ] where value <= zero {
            throw ElectionConfigError(key: key, message: "must be positive, got \(value)")
        }
        // Bounded so that instant arithmetic cannot overflow, whatever the config file says.
        let year = Duration.seconds(365 * 24 * 3600)
        for (key, value) in [
            ("detection.probe_interval", probeInterval), ("detection.down_after", downAfter),
            ("detection.heartbeat_staleness", heartbeatStaleness), ("detection.lease", leaseDuration),
            ("failover.candidate_backoff", candidateBackoff), ("failover.election_timeout", electionTimeout),
            ("failover.block_period", blockPeriod),
        ] where value > year || value < zero {
            throw ElectionConfigError(key: key, message: "must be between 0 and one year, got \(value)")
        }
        if case .automatic(let healthyFor) = failback, healthyFor > year || healthyFor < zero {
            throw ElectionConfigError(key: "failover.failback", message: "the healthy time must be between 0 and one year, got \(healthyFor)")
        }
        guard leaseSafetyMargin >= zero, leaseSafetyMargin < leaseDuration else {
            throw ElectionConfigError(
                key: "detection.lease_safety_margin",
                message: "must be at least 0 and shorter than the lease (\(leaseDuration)), got \(leaseSafetyMargin)"
            )
        }
        guard leaseDuration <= Self.longestLease else {
            throw ElectionConfigError(
                key: "detection.lease",
                message: "must be at most \(Self.longestLease) (a voter never reports a longer lease), got \(leaseDuration)")
        }
        guard leaseDuration > probeInterval else {
            throw ElectionConfigError(
                key: "detection.lease",
                message: "must be longer than probe_interval (\(probeInterval)) or the lease lapses between renewals; got \(leaseDuration)"
            )
        }
        guard voters.members[homeSite] != nil else {
            throw ElectionConfigError(
                key: "failover.home_site",
                message: "'\(homeSite)' is not one of the sites \(voters.sites.map(\.rawValue))"
            )
        }
    }
}
