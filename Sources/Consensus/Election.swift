import Sites

/// The site election of one agent (DESIGN.md §6) as a pure state machine: events in, actions
/// out, no I/O and no clock of its own.
///
/// How a failover happens, and why it is safe:
/// 1. Agents probe clusters and exchange heartbeats; when a majority sees the active site
///    down, an agent waits a random back-off and stands as candidate in a new epoch.
/// 2. Voters grant one vote per epoch, only for an epoch newer than any they have seen and
///    only if they agree with the proposal; the vote is persisted before the reply. Two
///    majorities share a voter, so one epoch has at most one leader.
/// 3. A voter stops renewing older epochs' leases once it has voted in a newer one, and each
///    grant reports how long the lease it last granted may still run. The vote majority
///    shares a voter with every renewal majority, so once the leader has waited out the
///    longest reported lease, the old active site's lease is over and cannot be renewed.
/// 4. Only then does the leader ask voters to store the new configuration; when a majority
///    has it, it is committed, and the new active site may act on it at once (`promote`).
///    The new active site serves only under its own lease, renewed by a majority.
/// Configurations are ordered by epoch; every agent adopts the newest committed one it hears.
///
/// Who stands as candidate: any voter that sees the active site objectively down. It proposes
/// the first site (in site order) other than the active one that it sees healthy; a witness
/// stands on that site's behalf, and the active site's own agent stands too when its cluster
/// is the one that failed. The proposal carries the committed configuration it replaces, so a
/// candidate with an outdated view is refused and learns the newer one from the refusal.
/// A voter that granted its vote holds back (neither stands nor votes for a rival) while that
/// election can still finish, so one failover uses one epoch (see `Support`).
///
/// Contract with the runtime:
/// - Perform each call's actions in order; a `persist` must be durable before the actions
///   after it (see `ElectionAction`).
/// - Deliver `.tick` at least every `probeInterval` (every 100 ms keeps the back-off precise).
/// - Only deliver messages whose `from` is the authenticated peer identity.
/// - Answer sidecars from `isServingActive(now:)`, not from remembered start/stop actions.
public struct Election: Sendable {
    public let me: AgentID
    /// This agent's site; `nil` for a witness.
    public let mySite: SiteID?
    public let voters: Voters
    public let policy: ElectionPolicy
    /// The durable part, as last handed out in a `persist` action.
    public internal(set) var state: ElectionState

    var detector: FailureDetector
    var lease = HolderLease()
    /// Voter side: the latest instant until which a lease this agent granted may run.
    var grantedUntil: MonotonicInstant
    var candidacy: Candidacy?
    /// Voter side: the election this voter granted its vote to, held back for (`Support`).
    var supporting: Support?
    var plannedCandidacy: PlannedCandidacy?
    var lastPulseAt: MonotonicInstant?
    var blockedUntil: MonotonicInstant?
    /// The newest epoch a voter reported to the lease holder without it being committed.
    var staleEpochEvidence: Epoch?
    /// Since when this agent has seen voters at an epoch newer than the committed one.
    var uncommittedSince: MonotonicInstant?
    var highestEpochSeen: Epoch
    var wasServing = false
    var announced = false
    var rng: SplitMix64
    let incarnation: UInt64
    var leaseSequence: UInt64 = 0
    var recentDecisions: [AuditRecord] = []
    /// The committed configuration each peer last claimed to hold (heartbeats, lease and vote
    /// requests, vote responses): a claim is evidence only together with a majority's (`adoptProven`).
    var claims: [AgentID: SiteConfig] = [:]
    /// Set while this voter rejoins without durable state (`Rejoin`).
    var rejoin: Rejoin?

    /// Starts (or restarts) an agent from its durable state.
    ///
    /// A restarted voter does not remember which leases it granted, so it assumes it granted
    /// one just now: its votes report a full lease to wait out. A restart after an
    /// unacknowledged automatic change re-starts the block period, since its start is unknown.
    /// - Parameter randomSeed: seeds the back-off and the lease round identity; must differ
    ///   between starts of the same agent.
    /// - Parameter rejoining: the agent lost its durable state (or the operator says so): it
    ///   may have voted and granted leases it no longer remembers, so it refuses votes and lease
    ///   grants until it has caught up (see `Rejoin`).
    /// - Throws: `ElectionConfigError` when the agent, the policy or the state does not fit
    ///   the voters.
    public init(
        agent: AgentID, voters: Voters, policy: ElectionPolicy, state: ElectionState,
        randomSeed: UInt64, now: MonotonicInstant, rejoining: Bool = false
    ) throws(ElectionConfigError) {
        guard voters.contains(agent) else {
            throw ElectionConfigError(key: "site", message: "agent '\(agent)' is not one of the voters \(voters.all)")
        }
        try policy.validate(voters: voters)
        guard voters.members[state.committed.activeSite] != nil else {
            throw ElectionConfigError(
                key: "sites",
                message: "the stored active site '\(state.committed.activeSite)' is not configured; add it back or reset the state file"
            )
        }
        self.me = agent
        self.mySite = voters.site(of: agent)
        self.voters = voters
        self.policy = policy
        var state = state
        if state.currentEpoch < state.committed.epoch {
            // Only a hand-edited file gets here; the committed epoch is the one to trust.
            state.currentEpoch = state.committed.epoch
            state.votedFor = nil
        }
        self.state = state
        self.detector = FailureDetector(sites: voters.sites, policy: policy, now: now)
        let longest = min(max(policy.leaseDuration, state.longestLeaseGranted ?? .zero), ElectionPolicy.longestLease)
        self.grantedUntil = now + longest
        if rejoining { self.rejoin = Rejoin() }
        self.highestEpochSeen = state.currentEpoch
        var rng = SplitMix64(seed: randomSeed)
        self.incarnation = rng.next()
        self.rng = rng
        if state.committed.cause.isAutomatic && state.acknowledgedEpoch < state.committed.epoch {
            blockedUntil = now + policy.blockPeriod
        }
    }

    /// Whether automatic failover can run at all in this deployment and policy.
    public var automaticFailoverEnabled: Bool {
        policy.automaticFailover && voters.automaticFailoverPossible
    }

    /// Whether this agent's site may answer "active" to its sidecars at `now`.
    ///
    /// True only for the committed active site's agent, not having voted in a newer epoch,
    /// while its lease (acknowledged by a majority) runs. Query this on every sidecar request:
    /// it is exact at `now`, whereas `stopServingActive` only comes with the next event.
    public func isServingActive(now: MonotonicInstant) -> Bool {
        guard let mySite, state.committed.activeSite == mySite,
            state.currentEpoch == state.committed.epoch || abandonedOwnElection(after: state.committed.epoch)
                || isReaffirming
        else { return false }
        return lease.isValid(epoch: state.committed.epoch, now: now)
    }

    /// Whether this agent runs an election to re-confirm its own site in the configuration it
    /// holds. It keeps serving on the lease it already has: renewals stop with the candidacy,
    /// and the election waits out every grant (this agent's own included) before committing,
    /// so the lease ends exactly as if the agent had just stopped renewing.
    var isReaffirming: Bool {
        guard let running = candidacy, let mySite else { return false }
        return running.proposal.activeSite == mySite && running.base == state.committed
    }

    /// Handles one event and returns what the runtime must do, in order.
    public mutating func handle(_ event: ElectionEvent, now: MonotonicInstant) -> [ElectionAction] {
        var actions: [ElectionAction] = []
        if !announced {
            announced = true
            announceWarnings(&actions)
        }
        switch event {
        case .tick:
            onTick(now: now, &actions)
        case .probeResult(let site, let healthy, let observedAt):
            // When the probe ran, not when its result is handled: after a stall (a slow disk
            // holding the event queue) a result may be old, and must not count as fresh.
            if !detector.recordProbe(of: site, healthy: healthy, at: min(observedAt, now), now: now) {
                audit(.messageRefused, "probe result for unknown site '\(site)' ignored", &actions)
            }
        case .received(let message):
            onMessage(message, now: now, &actions)
        case .setMaintenance(let enabled):
            setMaintenance(enabled, now: now, &actions)
        case .acknowledge:
            acknowledge(now: now, &actions)
        case .switchover(let target):
            operatorMove(to: target, cause: .operatorSwitchover, override: .none, now: now, &actions)
        case .failover(let target, let override):
            operatorMove(to: target, cause: .operatorFailover, override: override, now: now, &actions)
        }
        progressCandidacy(now: now, &actions)
        reconcileServing(now: now, &actions)
        return actions
    }

    // MARK: - Shared steps

    func warnings() -> [String] {
        var result: [String] = []
        if !voters.automaticFailoverPossible {
            result.append(
                "two sites and no witness: automatic failover is disabled because either side alone could not tell a dead peer from a cut link (split brain); add a witness, or fail over by operator command"
            )
        }
        if voters.count % 2 == 0 && voters.automaticFailoverPossible {
            result.append("an even number of voters (\(voters.count)) tolerates no more failures than \(voters.count - 1); add or remove a witness")
        }
        return result
    }

    mutating func announceWarnings(_ actions: inout [ElectionAction]) {
        for warning in warnings() { audit(.warning, warning, &actions) }
    }

    /// Records a decision, stamped with this agent's current epoch unless it is about another
    /// (a commit is stamped with the committed configuration's epoch, which an agent that stood
    /// in a newer, failed election may be past).
    mutating func audit(_ kind: AuditRecord.Kind, _ message: String, epoch: Epoch? = nil, _ actions: inout [ElectionAction]) {
        let record = AuditRecord(kind: kind, epoch: epoch ?? state.currentEpoch, message: message)
        recentDecisions.append(record)
        if recentDecisions.count > 32 { recentDecisions.removeFirst(recentDecisions.count - 32) }
        actions.append(.audit(record))
    }

    func persist(_ actions: inout [ElectionAction]) {
        actions.append(.persist(state))
    }

    func isBlocked(now: MonotonicInstant) -> Bool {
        guard let blockedUntil else { return false }
        return now < blockedUntil && state.acknowledgedEpoch < state.committed.epoch
    }

    /// Whether `site` names a configured site, and `config` only configured sites.
    func isKnown(_ config: SiteConfig) -> Bool {
        voters.members[config.activeSite] != nil && voters.members[config.mirrorDirection.from] != nil
            && voters.members[config.mirrorDirection.to] != nil
    }

    /// Takes on a configuration known to be committed if it is newer: committed by this agent
    /// as leader, or proven by evidence (`adoptClaim`, `adoptProven`). Never call it with what
    /// a single peer merely says.
    mutating func adopt(_ config: SiteConfig, via source: String, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard config.epoch > state.committed.epoch else { return }
        guard isKnown(config) else {
            audit(.messageRefused, "committed configuration \(config) from \(source) names an unknown site; ignored", &actions)
            return
        }
        let previous = state.committed
        state.committed = config
        claims = claims.filter { $0.value.epoch > config.epoch }
        if config.epoch > state.currentEpoch {
            state.currentEpoch = config.epoch
            state.votedFor = nil
        }
        if let accepted = state.accepted, accepted.epoch <= config.epoch { state.accepted = nil }
        if let bound = state.votedForAnotherIn, bound <= config.epoch { state.votedForAnotherIn = nil }
        highestEpochSeen = max(highestEpochSeen, config.epoch)
        if var rejoining = rejoin {
            rejoining.note(config.epoch)
            rejoin = rejoining
        }
        persist(&actions)
        audit(.committed, "adopted \(config) (via \(source); was \(previous.activeSite) in \(previous.epoch))", epoch: config.epoch, &actions)
        actions.append(.adoptConfig(config))
        lease.reset()
        staleEpochEvidence = nil
        uncommittedSince = nil
        plannedCandidacy = nil
        if let supporting, supporting.proposal.epoch <= config.epoch { self.supporting = nil }
        // Any running election was about replacing the previous configuration: it is over,
        // either because this is its own result or because it is out of date.
        if let running = candidacy {
            candidacy = nil
            if running.proposal != config {
                audit(.electionAbandoned, "candidacy for \(running.proposal) superseded by \(config)", &actions)
            }
        }
        if config.cause.isAutomatic && state.acknowledgedEpoch < config.epoch {
            blockedUntil = now + policy.blockPeriod
            audit(.blocked, "automatic changes blocked for \(policy.blockPeriod) unless an operator acknowledges", &actions)
        }
        if let mySite, config.activeSite == mySite {
            if previous.activeSite != mySite { actions.append(.promote(config)) }
            startLeaseRound(now: now, &actions)
        }
    }

    /// Emits start/stop serving when the lease status changed since the last event.
    mutating func reconcileServing(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        let serving = isServingActive(now: now)
        guard serving != wasServing else { return }
        wasServing = serving
        if serving {
            audit(.leaseAcquired, "lease for \(state.committed) acknowledged by a majority; serving active", &actions)
            actions.append(.startServingActive(state.committed))
        } else {
            let reason: String
            if state.committed.activeSite != mySite {
                reason = "\(state.committed.activeSite) is active since \(state.committed.epoch)"
            } else if state.currentEpoch > state.committed.epoch {
                reason = "an election in \(state.currentEpoch) is under way"
            } else {
                reason = "lease expired: no majority acknowledged a renewal in time; fenced"
            }
            audit(.leaseLost, "stopped serving active: \(reason)", &actions)
            actions.append(.stopServingActive(reason: reason))
        }
    }

    mutating func heartbeat(now: MonotonicInstant) -> PeerMessage {
        PeerMessage(
            from: me,
            body: .heartbeat(
                Heartbeat(
                    currentEpoch: state.currentEpoch, committed: state.committed, accepted: state.accepted,
                    downSites: detector.downSites(now: now), servingActive: isServingActive(now: now),
                    maintenance: state.maintenance, acknowledgedEpoch: state.acknowledgedEpoch
                )
            )
        )
    }

    mutating func onMessage(_ message: PeerMessage, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        let from = message.from
        guard from != me, voters.contains(from) else {
            audit(.messageRefused, "message from '\(from)', who is not another voter, ignored", &actions)
            return
        }
        switch message.body {
        case .heartbeat(let heartbeat): onHeartbeat(heartbeat, from: from, now: now, &actions)
        case .voteRequest(let request): onVoteRequest(request, from: from, now: now, &actions)
        case .voteResponse(let response): onVoteResponse(response, from: from, now: now, &actions)
        case .commitRequest(let request): onCommitRequest(request, from: from, now: now, &actions)
        case .commitAck(let ack): onCommitAck(ack, from: from, now: now, &actions)
        case .leaseRequest(let request): onLeaseRequest(request, from: from, now: now, &actions)
        case .leaseAck(let ack): onLeaseAck(ack, from: from, now: now, &actions)
        }
    }
}
