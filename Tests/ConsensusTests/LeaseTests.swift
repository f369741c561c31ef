import Consensus
import Testing

@Suite("Lease and fencing")
struct LeaseTests {
    /// dc-a's agent after one tick: it has sent its first renewal round.
    func holder(seed: UInt64 = 1, clock: inout ManualClock) throws -> (Election, LeaseRequest) {
        var election = try Drive.election(Fixture.agentA, seed: seed, now: clock.now)
        let actions = election.handle(.tick, now: clock.now)
        let request = try #require(actions.sent.compactMap { if case .leaseRequest(let r) = $0.0.body { r } else { nil } }.first)
        return (election, request)
    }

    func ack(_ request: LeaseRequest, from voter: AgentID, granted: Bool = true, voterEpoch: Epoch = .initial) -> ElectionEvent {
        .received(
            PeerMessage(
                from: voter,
                body: .leaseAck(LeaseAck(epoch: request.config.epoch, round: request.round, granted: granted, voterEpoch: voterEpoch, duration: (granted ? .seconds(2) : .zero)))))
    }

    /// The holder measures from when it sent the round, minus the safety margin, however late
    /// the acknowledgement arrives: so it always stops before the voters' view of the lease ends.
    @Test func holderLeaseRunsFromTheSendTimeMinusTheMargin() throws {
        var clock = ManualClock()
        var (election, request) = try holder(clock: &clock)
        let sentAt = clock.now
        #expect(!election.isServingActive(now: clock.now), "the holder's own grant is not a majority")
        clock.advance(by: .milliseconds(700))
        let acked = election.handle(ack(request, from: Fixture.witness), now: clock.now)
        #expect(acked.contains(.startServingActive(Fixture.initialConfig)))
        #expect(election.isServingActive(now: sentAt + .milliseconds(1899)))
        #expect(!election.isServingActive(now: sentAt + .milliseconds(1900)), "2 s lease − 100 ms margin, from the send")
    }

    @Test func activeCutOffFromEveryPeerStopsServingAndReportsFenced() throws {
        var clock = ManualClock()
        var (election, request) = try holder(clock: &clock)
        _ = election.handle(ack(request, from: Fixture.agentB), now: clock.now)
        #expect(election.isServingActive(now: clock.now))
        // From now on nothing arrives: renewals go out, no acknowledgement comes back.
        let actions = Drive.run(&election, clock: &clock, for: .seconds(3), healthy: [Fixture.siteA])
        let stopIndex = try #require(actions.firstIndex { if case .stopServingActive = $0 { true } else { false } })
        guard case .stopServingActive(let reason) = actions[stopIndex] else { return }
        #expect(reason.contains("fenced"))
        guard case .fenced = election.status(now: clock.now).serving else {
            Issue.record("expected fenced, got \(election.status(now: clock.now).serving)")
            return
        }
        #expect(actions.audits.contains { $0.kind == .leaseLost })
    }

    @Test func aLateAckFromBeforeARestartDoesNotExtendTheNewLease() throws {
        var clock = ManualClock()
        let (_, oldRequest) = try holder(seed: 1, clock: &clock)
        clock.advance(by: .seconds(5))
        var (restarted, _) = try holder(seed: 2, clock: &clock)
        _ = restarted.handle(ack(oldRequest, from: Fixture.witness), now: clock.now)
        #expect(!restarted.isServingActive(now: clock.now))
    }

    @Test func votingInANewerEpochStopsTheHolderServingAtOnce() throws {
        var clock = ManualClock()
        var (election, request) = try holder(clock: &clock)
        _ = election.handle(ack(request, from: Fixture.witness), now: clock.now)
        #expect(election.isServingActive(now: clock.now))
        // dc-a's own cluster fails; dc-a's agent agrees to a failover and so steps down.
        _ = Drive.run(&election, clock: &clock, for: .milliseconds(1600), healthy: [Fixture.siteB])
        let actions = election.handle(Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        #expect(actions.voteResponses.first?.granted == true)
        #expect(actions.contains { if case .stopServingActive = $0 { true } else { false } })
        #expect(!election.isServingActive(now: clock.now))
    }

    /// A restarted voter does not know which lease it granted before, so it reports a full
    /// lease in its first votes.
    @Test func restartedVoterAssumesItJustGrantedALease() throws {
        var clock = ManualClock(start: MonotonicInstant(sinceOrigin: .seconds(100)))
        var voter = try Drive.election(Fixture.agentB, now: clock.now)
        _ = Drive.run(&voter, clock: &clock, for: .milliseconds(1500), healthy: [Fixture.siteB])
        let actions = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        #expect(actions.voteResponses.first?.leaseRemaining == .milliseconds(500))
    }

    /// Voters that moved to an epoch nobody committed (a failed election) refuse the active
    /// site's renewals; after that election has surely ended, the active site re-confirms
    /// itself in a newer epoch instead of staying fenced forever.
    @Test func activeReaffirmsItselfAfterAFailedElection() throws {
        var cluster = try SimulatedCluster(voters: Fixture.voters(), policy: Fixture.policy(), seed: 3)
        cluster.run(for: .seconds(3))
        // The witness and dc-b voted in epoch 5 for a candidate that vanished.
        for id in [Fixture.witness, Fixture.agentB] {
            cluster.crash(id)
        }
        cluster.run(for: .seconds(3))
        #expect(cluster.servingSites.isEmpty)
        try cluster.restart(Fixture.witness, state: ElectionState(currentEpoch: Epoch(5), votedFor: "ghost", committed: Fixture.initialConfig))
        try cluster.restart(Fixture.agentB, state: ElectionState(currentEpoch: Epoch(5), votedFor: "ghost", committed: Fixture.initialConfig))
        cluster.run(for: .seconds(4))
        #expect(cluster.servingSites.isEmpty, "renewals of epoch 0 are refused at epoch 5")
        cluster.run(for: .seconds(10))
        #expect(cluster.servingSites == [Fixture.siteA])
        let committed = try #require(cluster.election(Fixture.witness)?.state.committed)
        #expect(committed.cause == .reaffirm)
        #expect(committed.activeSite == Fixture.siteA)
        #expect(committed.epoch > Epoch(5))
        #expect(cluster.violations.isEmpty)
    }
}

/// The lease safety margin is what absorbs clock rate differences: the holder's clock runs
/// 10 % slow, the voters' 10 % fast, and the holder is isolated right after a renewal.
@Suite("Lease safety margin under clock drift")
struct LeaseDriftTests {
    func splitBrainIntervals(margin: Duration) throws -> Int {
        var total = 0
        for seed in UInt64(1)...20 {
            var policy = Fixture.policy()
            policy.leaseSafetyMargin = margin
            var cluster = try SimulatedCluster(voters: Fixture.voters(), policy: policy, seed: seed)
            cluster.setClockRate(Fixture.agentA, 0.9)
            cluster.setClockRate(Fixture.agentB, 1.1)
            cluster.setClockRate(Fixture.witness, 1.1)
            cluster.run(for: .seconds(3))
            cluster.isolate(Fixture.agentA)
            cluster.run(for: .seconds(10))
            #expect(cluster.servingSites == [Fixture.siteB])
            total += cluster.splitBrainIntervals
        }
        return total
    }

    @Test func withoutAMarginDriftingClocksLetTwoSitesServe() throws {
        #expect(try splitBrainIntervals(margin: .zero) > 0, "the checker must see this split brain")
    }

    @Test func aMarginCoveringTheDriftKeepsOneSiteServing() throws {
        #expect(try splitBrainIntervals(margin: .milliseconds(500)) == 0)
    }
}
