import Consensus
import Testing

/// A failed election leaves voters in an epoch nobody committed. They must not leave the active
/// site's lease hanging on the voters that are left (found by the randomized simulation: seed
/// 446 of 2000 ended a healed schedule with no site serving).
@Suite("Recovery from failed elections")
struct FailedElectionRecoveryTests {
    static let leaseRequest = LeaseRequest(config: Fixture.initialConfig, round: LeaseRound(incarnation: 1, sequence: 1), duration: .seconds(2))

    static func lease(_ request: LeaseRequest = leaseRequest) -> ElectionEvent {
        .received(PeerMessage(from: Fixture.agentA, body: .leaseRequest(request)))
    }

    static func leaseAcks(_ actions: [ElectionAction]) -> [LeaseAck] {
        actions.sent.compactMap { if case .leaseAck(let ack) = $0.0.body { ack } else { nil } }
    }

    /// dc-b's agent after an operator's switchover to dc-b that found no majority.
    static func failedCandidate(clock: inout ManualClock) throws -> Election {
        var election = try Drive.election(Fixture.agentB, now: clock.now)
        let started = election.handle(.switchover(to: Fixture.siteB), now: clock.now)
        #expect(started.voteRequests.count == 1)
        let during = election.handle(lease(), now: clock.now)
        #expect(leaseAcks(during).first?.granted == false, "a running candidacy must not grant the old epoch")
        let abandoned = Drive.run(&election, clock: &clock, for: .milliseconds(2500), healthy: [Fixture.siteA, Fixture.siteB])
        #expect(abandoned.audits.contains { $0.kind == .electionAbandoned })
        return election
    }

    @Test func aVoterWhoseOwnCandidacyFailedGrantsTheActiveSiteAgain() throws {
        var clock = ManualClock()
        var election = try Self.failedCandidate(clock: &clock)
        #expect(election.state.currentEpoch == Epoch(1) && election.state.committed.epoch == .initial)
        let ack = try #require(Self.leaseAcks(election.handle(Self.lease(), now: clock.now)).first)
        #expect(ack.granted, "nobody but this agent could lead e1, and it gave up")
    }

    @Test func aFailedCandidateRestartedFromDiskGrantsTheActiveSiteAgain() throws {
        var clock = ManualClock()
        let failed = try Self.failedCandidate(clock: &clock)
        var restarted = try Drive.election(Fixture.agentB, state: failed.state, seed: 2, now: clock.now)
        let ack = try #require(Self.leaseAcks(restarted.handle(Self.lease(), now: clock.now)).first)
        #expect(ack.granted, "candidacies are never resumed after a restart")
    }

    @Test func aVoterThatVotedForSomeoneElsesFailedCandidacyStillRefuses() throws {
        var clock = ManualClock()
        var witness = try Drive.election(Fixture.witness, now: clock.now)
        _ = Drive.run(&witness, clock: &clock, for: .milliseconds(1600), healthy: [Fixture.siteB])
        let vote = witness.handle(Drive.voteRequest(from: Fixture.agentB, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        #expect(vote.voteResponses.first?.granted == true)
        _ = Drive.run(&witness, clock: &clock, for: .seconds(3), healthy: [Fixture.siteA, Fixture.siteB])
        let ack = try #require(Self.leaseAcks(witness.handle(Self.lease(), now: clock.now)).first)
        #expect(!ack.granted, "only dc-b's agent knows its election is over; the witness's vote still binds it")
    }

    /// The hole the spin model found (Models/README.md, `SWIFT_TODAY`): a voter that voted for
    /// another candidate in e1, then stood itself in e2 and gave up, must not renew the e0
    /// lease: the candidate it voted for may commit e1 with the others and serve.
    @Test func aFailedCandidateThatVotedForAnotherBeforeStillRefusesTheOldLease() throws {
        var clock = ManualClock()
        var voter = try Drive.election(Fixture.agentB, now: clock.now)
        _ = Drive.run(&voter, clock: &clock, for: .milliseconds(1600), healthy: [Fixture.siteB])
        let vote = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        #expect(vote.voteResponses.first?.granted == true)
        _ = Drive.run(&voter, clock: &clock, for: .seconds(3), healthy: [Fixture.siteA, Fixture.siteB])
        let started = voter.handle(.switchover(to: Fixture.siteB), now: clock.now)
        #expect(started.voteRequests.first?.proposal.epoch == Epoch(2), "its own candidacy in e2")
        let abandoned = Drive.run(&voter, clock: &clock, for: .milliseconds(2500), healthy: [Fixture.siteA, Fixture.siteB])
        #expect(abandoned.audits.contains { $0.kind == .electionAbandoned })
        let ack = try #require(Self.leaseAcks(voter.handle(Self.lease(), now: clock.now)).first)
        #expect(!ack.granted, "its vote for the witness's candidacy in e1 still binds it")
        // The same after a restart from disk.
        var restarted = try Drive.election(Fixture.agentB, state: voter.state, seed: 2, now: clock.now)
        let again = try #require(Self.leaseAcks(restarted.handle(Self.lease(), now: clock.now)).first)
        #expect(!again.granted)
    }

    /// dc-a serves with the witness's grants while dc-b refuses from a failed epoch: dc-a stands
    /// again for itself, keeps serving on its lease while the election runs, and serves in the
    /// new epoch with every voter back in step.
    @Test func theActiveSiteReaffirmsItselfWhileServing() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.agentA, now: clock.now)
        var lastServing = clock.now
        var reaffirm: VoteRequest?
        var servingWhileCandidate = false
        // Every renewal: the witness grants, dc-b (stuck in e1) refuses.
        for _ in 0..<200 where reaffirm == nil {
            clock.advance(by: .milliseconds(100))
            var actions = election.handle(.tick, now: clock.now)
            for site in [Fixture.siteA, Fixture.siteB] {
                actions += election.handle(.probeResult(site: site, healthy: true, observedAt: clock.now), now: clock.now)
            }
            for request in actions.sent.compactMap({ if case .leaseRequest(let r) = $0.0.body { r } else { nil } }) {
                let granted = LeaseAck(epoch: request.config.epoch, round: request.round, granted: true, voterEpoch: .initial, duration: .seconds(2))
                let refused = LeaseAck(epoch: request.config.epoch, round: request.round, granted: false, voterEpoch: Epoch(1), duration: .zero)
                _ = election.handle(.received(PeerMessage(from: Fixture.witness, body: .leaseAck(granted))), now: clock.now)
                _ = election.handle(.received(PeerMessage(from: Fixture.agentB, body: .leaseAck(refused))), now: clock.now)
            }
            if election.isServingActive(now: clock.now) { lastServing = clock.now }
            reaffirm = actions.voteRequests.first
            if reaffirm != nil { servingWhileCandidate = election.isServingActive(now: clock.now) }
        }
        let request = try #require(reaffirm, "dc-a never stood again for itself")
        #expect(request.proposal.activeSite == Fixture.siteA && request.proposal.cause == .reaffirm)
        #expect(request.proposal.epoch == Epoch(2), "one past the failed e1")
        #expect(servingWhileCandidate, "the lease it holds still protects it while the election runs")

        let epoch = request.proposal.epoch
        _ = election.handle(Drive.voteGranted(from: Fixture.witness, to: Fixture.agentA, epoch: epoch, leaseRemaining: .milliseconds(1900)), now: clock.now)
        // The lease runs out on its own; the commit waits for it.
        var commit: CommitRequest?
        while commit == nil && clock.now < lastServing + .seconds(5) {
            clock.advance(by: .milliseconds(50))
            let actions = election.handle(.tick, now: clock.now)
            if election.isServingActive(now: clock.now) { lastServing = clock.now }
            commit = actions.sent.compactMap { if case .commitRequest(let c) = $0.0.body { c } else { nil } }.first
        }
        #expect(try #require(commit).config == request.proposal)
        #expect(!election.isServingActive(now: clock.now), "the old lease is over before the commit goes out")

        let acked = election.handle(
            .received(PeerMessage(from: Fixture.witness, body: .commitAck(CommitAck(epoch: epoch, accepted: true, voterEpoch: epoch)))),
            now: clock.now)
        #expect(acked.contains(.adoptConfig(request.proposal)))
        let renewal = try #require(acked.sent.compactMap { if case .leaseRequest(let r) = $0.0.body { r } else { nil } }.first)
        let granted = LeaseAck(epoch: epoch, round: renewal.round, granted: true, voterEpoch: epoch, duration: .seconds(2))
        clock.advance(by: .milliseconds(20))
        let serving = election.handle(.received(PeerMessage(from: Fixture.agentB, body: .leaseAck(granted))), now: clock.now)
        #expect(serving.contains(.startServingActive(request.proposal)))
        #expect(clock.now - lastServing < .milliseconds(500), "served again \(clock.now - lastServing) after the old lease ended")
    }
}
