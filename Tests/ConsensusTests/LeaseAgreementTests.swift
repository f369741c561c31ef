import Consensus
import Sites
import Testing

/// Issue 11, items 1 and 2: agents that disagree on the lease length, and a voter that renewed
/// an old lease after storing a newer configuration.
@Suite("Lease agreement between agents")
struct LeaseAgreementTests {
    static func policy(lease: Duration, backoff: Duration = .seconds(1)) -> ElectionPolicy {
        var policy = Fixture.policy()
        policy.leaseDuration = lease
        policy.candidateBackoff = backoff
        return policy
    }

    /// Item 1. A rolling change from 4 s to 8 s leases: dc-a and the witness already run 8 s,
    /// dc-b still 4 s. dc-a is cut off just after a renewal the witness granted for 8 s; dc-b
    /// stands (the witness backs off for a minute) and, before the fix, clamped the witness's
    /// report to its own 4 s: it committed and served while dc-a's lease still ran (about 1.3 s
    /// of two active sites here, 2 s in the timings).
    @Test func aRollingChangeFrom4To8SecondLeasesKeepsOneSiteServing() throws {
        let long = Self.policy(lease: .seconds(8))
        var cluster = try SimulatedCluster(
            voters: Fixture.voters(), policy: long, seed: 11,
            policies: [Fixture.agentB: Self.policy(lease: .seconds(4)), Fixture.witness: Self.policy(lease: .seconds(8), backoff: .seconds(60))])
        cluster.latencyMilliseconds = 1...5
        cluster.run(for: .seconds(3))
        #expect(cluster.servingSites == [Fixture.siteA])
        cluster.isolate(Fixture.agentA)
        cluster.run(for: .seconds(15))
        #expect(cluster.violations.isEmpty, "\(cluster.violations.prefix(3))")
        #expect(cluster.servingSites == [Fixture.siteB], "dc-b took over once dc-a's 8 s lease was over")
        #expect(cluster.election(Fixture.agentB)?.state.committed.activeSite == Fixture.siteB)
    }

    /// Item 1, holder side: the holder serves only within what a majority granted, not for
    /// its own (longer) setting.
    @Test func theHolderServesOnlyAsLongAsAMajorityGranted() throws {
        var clock = ManualClock()
        var holder = try Drive.election(Fixture.agentA, policy: Self.policy(lease: .seconds(8)), now: clock.now)
        let actions = holder.handle(.tick, now: clock.now)
        let request = try #require(actions.sent.compactMap { if case .leaseRequest(let r) = $0.0.body { r } else { nil } }.first)
        #expect(request.duration == .seconds(8))
        // dc-b still runs 4 s leases: it grants 4 s, and says so.
        var voter = try Drive.election(Fixture.agentB, policy: Self.policy(lease: .seconds(4)), now: clock.now)
        let answer = voter.handle(.received(PeerMessage(from: Fixture.agentA, body: .leaseRequest(request))), now: clock.now)
        let ack = try #require(answer.sent.compactMap { if case .leaseAck(let a) = $0.0.body { a } else { nil } }.first)
        #expect(ack.granted && ack.duration == .seconds(4))
        #expect(answer.persisted.last?.longestLeaseGranted == .seconds(4), "the longest grant survives a restart")
        _ = holder.handle(.received(PeerMessage(from: Fixture.agentB, body: .leaseAck(ack))), now: clock.now)
        #expect(holder.isServingActive(now: clock.now + .milliseconds(3899)))
        #expect(!holder.isServingActive(now: clock.now + .milliseconds(3900)), "4 s granted − 100 ms margin, not 8 s")
    }

    /// Item 1, waiting side: a voter restarted with a shorter lease setting still reports the
    /// longest lease it ever granted.
    @Test func aVoterRestartedWithAShorterLeaseReportsTheLongerGrant() throws {
        var clock = ManualClock()
        let state = ElectionState(currentEpoch: .initial, votedFor: nil, committed: Fixture.initialConfig, longestLeaseGranted: .seconds(8))
        var voter = try Drive.election(Fixture.agentB, state: state, policy: Self.policy(lease: .seconds(4)), now: clock.now)
        _ = Drive.run(&voter, clock: &clock, for: .milliseconds(1600), healthy: [Fixture.siteB])
        let actions = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        let response = try #require(actions.voteResponses.first)
        #expect(response.granted)
        #expect(response.leaseRemaining == .seconds(8) - .milliseconds(1600))
    }

    /// Item 2. Three voters and one-way links. dc-b is cut from dc-a and fails over by operator
    /// command with the witness's vote; the witness stores e1 but the link dc-b → witness breaks
    /// before it hears that e1 committed. An operator failover at the witness (e2) then fails
    /// (witness → dc-a is cut too, and dc-b refuses). Once witness → dc-a is back, the witness,
    /// whose own candidacy had failed, renewed dc-a's e0 lease before the fix although it had
    /// stored e1: when dc-b → witness healed, the witness adopted e1 and renewed dc-b's lease
    /// while dc-a's still ran.
    @Test func aVoterThatStoredANewerConfigurationNeverRenewsTheOldLease() throws {
        let a = Fixture.agentA, b = Fixture.agentB, w = Fixture.witness
        var cluster = try SimulatedCluster(voters: Fixture.voters(), policy: Fixture.policy(), seed: 12)
        cluster.latencyMilliseconds = 1...3
        cluster.run(for: .seconds(3))
        #expect(cluster.servingSites == [Fixture.siteA])
        cluster.cutLink(a, b)
        cluster.run(for: .seconds(1))
        cluster.command(.failover(to: Fixture.siteB, override: SafetyOverride(ignoreHealth: true)), at: b)
        let e1 = Epoch(1)
        try run(&cluster, within: .seconds(6), until: { $0.election(w)?.state.accepted?.epoch == e1 })
        cluster.cutLink(b, w, bothWays: false)
        cluster.cutLink(w, a, bothWays: false)
        try run(&cluster, within: .seconds(2), until: { $0.election(b)?.state.committed.epoch == e1 })
        cluster.command(.failover(to: Fixture.siteB, override: SafetyOverride(ignoreHealth: true)), at: w)
        #expect(cluster.election(w)?.state.currentEpoch == Epoch(2))
        cluster.run(for: Fixture.policy().electionTimeout + .milliseconds(200))
        #expect(cluster.election(w)?.state.currentEpoch == Epoch(2) && cluster.election(w)?.state.committed.epoch == .initial)
        cluster.healLink(w, a)
        cluster.run(for: .seconds(1))
        cluster.healLink(b, w)
        cluster.run(for: .seconds(4))
        #expect(cluster.violations.isEmpty, "\(cluster.violations.prefix(3))")
        #expect(cluster.servingSites == [Fixture.siteB])
    }

    /// Runs in 1 ms steps until `condition` holds, failing if it does not within `limit`.
    func run(_ cluster: inout SimulatedCluster, within limit: Duration, until condition: (SimulatedCluster) -> Bool) throws {
        var waited = Duration.zero
        while !condition(cluster) {
            try #require(waited < limit, "condition not reached within \(limit)")
            cluster.run(for: .milliseconds(1))
            waited += .milliseconds(1)
        }
    }
}
