import Consensus
import Sites

/// Builders for driving one `Election` by hand with a manual clock.
enum Drive {
    static func election(
        _ agent: AgentID, state: ElectionState = Fixture.initialState, voters: Voters? = nil,
        policy: ElectionPolicy = Fixture.policy(), seed: UInt64 = 1, now: MonotonicInstant = .origin
    ) throws -> Election {
        try Election(agent: agent, voters: voters ?? Fixture.voters(), policy: policy, state: state, randomSeed: seed, now: now)
    }

    static func heartbeat(
        from peer: AgentID, down: [SiteID], epoch: Epoch = .initial, committed: SiteConfig = Fixture.initialConfig
    ) -> ElectionEvent {
        .received(
            PeerMessage(
                from: peer,
                body: .heartbeat(
                    Heartbeat(
                        currentEpoch: epoch, committed: committed, accepted: nil, downSites: down, servingActive: false,
                        maintenance: .off, acknowledgedEpoch: .initial))))
    }

    /// Heartbeats from each of `peers` showing `committed`: with this agent, a majority's
    /// evidence that it is committed (one peer's word alone is not adopted).
    static func heartbeats(
        from peers: [AgentID], down: [SiteID], epoch: Epoch = .initial, committed: SiteConfig = Fixture.initialConfig
    ) -> [ElectionEvent] {
        peers.map { heartbeat(from: $0, down: down, epoch: epoch, committed: committed) }
    }

    static func failoverProposal(epoch: Epoch, to target: SiteID = Fixture.siteB, cause: ConfigCause = .automaticFailover) -> SiteConfig {
        SiteConfig(epoch: epoch, activeSite: target, mirrorDirection: MirrorDirection(from: target, to: Fixture.siteA), cause: cause)
    }

    static func voteRequest(from candidate: AgentID, proposal: SiteConfig, base: SiteConfig = Fixture.initialConfig) -> ElectionEvent {
        .received(PeerMessage(from: candidate, body: .voteRequest(VoteRequest(proposal: proposal, base: base, override: .none))))
    }

    static func voteGranted(from voter: AgentID, to candidate: AgentID, epoch: Epoch, leaseRemaining: Duration) -> ElectionEvent {
        .received(
            PeerMessage(
                from: voter,
                body: .voteResponse(
                    VoteResponse(
                        epoch: epoch, candidate: candidate, granted: true, leaseRemaining: leaseRemaining, voterEpoch: epoch,
                        voterCommitted: Fixture.initialConfig, reason: "granted"))))
    }

    /// Probes every site every probe interval for `duration`, with the given health, ticking too.
    static func run(
        _ election: inout Election, clock: inout ManualClock, for duration: Duration, healthy: Set<SiteID>,
        step: Duration = .milliseconds(100)
    ) -> [ElectionAction] {
        var actions: [ElectionAction] = []
        var elapsed = Duration.zero
        while elapsed < duration {
            clock.advance(by: step)
            elapsed += step
            for site in election.voters.sites {
                actions += election.handle(.probeResult(site: site, healthy: healthy.contains(site), observedAt: clock.now), now: clock.now)
            }
            actions += election.handle(.tick, now: clock.now)
        }
        return actions
    }
}

extension ElectionAction {
    var isPersist: Bool { if case .persist = self { true } else { false } }
    var isSend: Bool {
        switch self {
        case .send, .broadcast: true
        default: false
        }
    }
}
