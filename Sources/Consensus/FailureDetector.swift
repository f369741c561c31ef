import Sites

/// What one agent knows about site health: its own probes (subjective) and its peers' views
/// from their heartbeats (which, counted together, make a site objectively down).
///
/// Why two levels: one agent's view may be wrong because of its own links (a cut between
/// dc-a and dc-b makes each look down to the other). Only when a majority of voters see the
/// active site down is failing over worth the cost, and a majority cannot exist on both sides
/// of a partition.
struct FailureDetector: Hashable, Sendable {
    struct PeerView: Hashable, Sendable {
        var receivedAt: MonotonicInstant
        var heartbeat: Heartbeat
    }

    let downAfter: Duration
    let staleness: Duration
    private(set) var lastGoodProbe: [SiteID: MonotonicInstant]
    /// Start of the current run of good probes (no bad probe and not down since).
    private(set) var healthySince: [SiteID: MonotonicInstant] = [:]
    private(set) var peers: [AgentID: PeerView] = [:]

    /// Every site starts as if probed good now: an agent that just started gives its probes
    /// `downAfter` to report before it calls anything down.
    init(sites: [SiteID], policy: ElectionPolicy, now: MonotonicInstant) {
        self.downAfter = policy.downAfter
        self.staleness = policy.heartbeatStaleness
        self.lastGoodProbe = Dictionary(uniqueKeysWithValues: sites.map { ($0, now) })
    }

    /// Records one probe observed at `observedAt` (at most `now`); returns `false` for a site
    /// this agent does not know. A result older than the newest good one changes nothing: it
    /// says nothing about the site since.
    mutating func recordProbe(of site: SiteID, healthy: Bool, at observedAt: MonotonicInstant, now: MonotonicInstant) -> Bool {
        guard let last = lastGoodProbe[site] else { return false }
        guard observedAt >= last else { return true }
        if healthy {
            if observedAt - last >= downAfter || healthySince[site] == nil { healthySince[site] = observedAt }
            lastGoodProbe[site] = observedAt
        } else {
            healthySince[site] = nil
        }
        return true
    }

    /// Subjectively down: no good probe for `downAfter`.
    func isDown(_ site: SiteID, now: MonotonicInstant) -> Bool {
        guard let last = lastGoodProbe[site] else { return false }
        return now - last >= downAfter
    }

    func downSites(now: MonotonicInstant) -> [SiteID] {
        lastGoodProbe.keys.filter { isDown($0, now: now) }.sorted()
    }

    /// How long `site` has been continuously healthy, or `nil` if it is not healthy now.
    func healthyFor(_ site: SiteID, now: MonotonicInstant) -> Duration? {
        guard !isDown(site, now: now), let since = healthySince[site] else { return nil }
        return now - since
    }

    mutating func recordHeartbeat(_ heartbeat: Heartbeat, from peer: AgentID, now: MonotonicInstant) {
        peers[peer] = PeerView(receivedAt: now, heartbeat: heartbeat)
    }

    /// The instants at which a site turns subjectively down or a peer's heartbeat goes stale,
    /// unless something arrives first.
    func transitions() -> [MonotonicInstant] {
        lastGoodProbe.values.map { $0 + downAfter } + peers.values.map { $0.receivedAt + staleness }
    }

    /// Peers whose last heartbeat is recent enough to count.
    func freshPeers(now: MonotonicInstant) -> [AgentID: Heartbeat] {
        peers.filter { now - $0.value.receivedAt <= staleness }.mapValues(\.heartbeat)
    }

    /// The voters (this agent included) that currently see `site` down.
    func votersSeeingDown(_ site: SiteID, me: AgentID, now: MonotonicInstant) -> [AgentID] {
        var seeing = freshPeers(now: now).filter { $0.value.downSites.contains(site) }.map(\.key)
        if isDown(site, now: now) { seeing.append(me) }
        return seeing.sorted()
    }

    /// Objectively down: a majority of voters, by fresh heartbeats and this agent's own view.
    func isObjectivelyDown(_ site: SiteID, me: AgentID, majority: Int, now: MonotonicInstant) -> Bool {
        votersSeeingDown(site, me: me, now: now).count >= majority
    }
}
