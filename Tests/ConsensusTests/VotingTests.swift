import Consensus
import Testing

@Suite("Voting and commit")
struct VotingTests {
    /// dc-b's agent, which has seen dc-a down for 2 s (its own probes of dc-b are fine).
    func voterSeeingActiveDown(clock: inout ManualClock) throws -> Election {
        var election = try Drive.election(Fixture.agentB)
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        return election
    }

    @Test func grantIsPersistedBeforeTheReply() throws {
        var clock = ManualClock()
        var voter = try voterSeeingActiveDown(clock: &clock)
        let actions = voter.handle(
            Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        let persistIndex = try #require(actions.firstIndex { $0.isPersist })
        let replyIndex = try #require(actions.firstIndex { $0.isSend })
        #expect(persistIndex < replyIndex)
        #expect(actions.persisted.first?.votedFor == Fixture.witness)
        #expect(actions.persisted.first?.currentEpoch == Epoch(1))
        #expect(actions.voteResponses.first?.granted == true)
    }

    @Test func atMostOneVotePerEpoch() throws {
        var clock = ManualClock()
        var voter = try voterSeeingActiveDown(clock: &clock)
        let proposal = Drive.failoverProposal(epoch: Epoch(1))
        _ = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: proposal), now: clock.now)

        let rival = voter.handle(Drive.voteRequest(from: Fixture.agentA, proposal: proposal), now: clock.now)
        #expect(rival.voteResponses.first?.granted == false)
        #expect(rival.persisted.isEmpty)

        // The same candidate asking again (a retried request) gets the same answer, no new write.
        let repeated = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: proposal), now: clock.now)
        #expect(repeated.voteResponses.first?.granted == true)
        #expect(repeated.persisted.isEmpty)
        #expect(voter.state.votedFor == Fixture.witness)
    }

    @Test func refusedWhenTheVoterSeesTheActiveSiteHealthy() throws {
        var clock = ManualClock()
        var voter = try Drive.election(Fixture.agentB)
        _ = Drive.run(&voter, clock: &clock, for: .seconds(2), healthy: [Fixture.siteA, Fixture.siteB])
        let actions = voter.handle(
            Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        let response = try #require(actions.voteResponses.first)
        #expect(!response.granted)
        #expect(response.reason.contains("looks healthy"))
        #expect(actions.persisted.isEmpty)
        #expect(voter.state.currentEpoch == .initial, "a refusal must not move the epoch (it would fence the active)")
    }

    @Test func oldEpochMessagesAreRefused() throws {
        var clock = ManualClock()
        let state = ElectionState(currentEpoch: Epoch(3), votedFor: Fixture.witness, committed: Fixture.initialConfig)
        var voter = try Drive.election(Fixture.agentB, state: state)
        _ = Drive.run(&voter, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])

        let vote = voter.handle(Drive.voteRequest(from: Fixture.agentA, proposal: Drive.failoverProposal(epoch: Epoch(2))), now: clock.now)
        #expect(vote.voteResponses.first?.granted == false)

        let commit = voter.handle(
            .received(PeerMessage(from: Fixture.agentA, body: .commitRequest(CommitRequest(config: Drive.failoverProposal(epoch: Epoch(2)))))),
            now: clock.now)
        let ack = try #require(commit.sent.compactMap { if case .commitAck(let ack) = $0.0.body { ack } else { nil } }.first)
        #expect(!ack.accepted)
        #expect(ack.voterEpoch == Epoch(3))

        // The active site's lease for epoch 0 is refused: this voter voted in epoch 3.
        let lease = voter.handle(
            .received(
                PeerMessage(
                    from: Fixture.agentA,
                    body: .leaseRequest(LeaseRequest(config: Fixture.initialConfig, round: LeaseRound(incarnation: 1, sequence: 1), duration: .seconds(2))))),
            now: clock.now)
        let leaseAck = try #require(lease.sent.compactMap { if case .leaseAck(let ack) = $0.0.body { ack } else { nil } }.first)
        #expect(!leaseAck.granted)
        #expect(voter.state.currentEpoch == Epoch(3))
    }

    @Test func voteReportsTheLeaseTheVoterLastGranted() throws {
        var clock = ManualClock()
        var voter = try voterSeeingActiveDown(clock: &clock)
        let granted = voter.handle(
            .received(
                PeerMessage(
                    from: Fixture.agentA,
                    body: .leaseRequest(LeaseRequest(config: Fixture.initialConfig, round: LeaseRound(incarnation: 1, sequence: 1), duration: .seconds(2))))),
            now: clock.now)
        #expect(granted.sent.contains { if case .leaseAck(let ack) = $0.0.body { ack.granted } else { false } })
        clock.advance(by: .milliseconds(500))
        let actions = voter.handle(
            Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        #expect(actions.voteResponses.first?.leaseRemaining == .milliseconds(1500))
    }

    @Test func commitRequestIsStoredBeforeTheAckButNotActedOn() throws {
        var clock = ManualClock()
        var voter = try voterSeeingActiveDown(clock: &clock)
        let proposal = Drive.failoverProposal(epoch: Epoch(1))
        let actions = voter.handle(
            .received(PeerMessage(from: Fixture.witness, body: .commitRequest(CommitRequest(config: proposal)))), now: clock.now)
        let persistIndex = try #require(actions.firstIndex { $0.isPersist })
        let ackIndex = try #require(actions.firstIndex { $0.isSend })
        #expect(persistIndex < ackIndex)
        #expect(voter.state.accepted == proposal)
        #expect(voter.state.committed == Fixture.initialConfig, "stored, not committed: no majority known yet")
        #expect(!actions.contains { if case .promote = $0 { true } else { false } })
    }

    @Test func newActiveSitePromotesWhenItLearnsTheCommitThenServesUnderItsOwnLease() throws {
        var clock = ManualClock()
        var agent = try voterSeeingActiveDown(clock: &clock)
        let committed = Drive.failoverProposal(epoch: Epoch(1))
        let adopted = Drive.heartbeats(from: [Fixture.witness, Fixture.agentA], down: [Fixture.siteA], epoch: Epoch(1), committed: committed)
            .flatMap { agent.handle($0, now: clock.now) }
        #expect(adopted.contains(.promote(committed)))
        #expect(adopted.contains(.adoptConfig(committed)))
        #expect(!agent.isServingActive(now: clock.now), "no lease yet")
        let request = try #require(adopted.sent.compactMap { if case .leaseRequest(let r) = $0.0.body { r } else { nil } }.first)
        #expect(request.config == committed)

        let acked = agent.handle(
            .received(PeerMessage(from: Fixture.witness, body: .leaseAck(LeaseAck(epoch: Epoch(1), round: request.round, granted: true, voterEpoch: Epoch(1), duration: .seconds(2))))),
            now: clock.now)
        #expect(acked.contains(.startServingActive(committed)))
        #expect(agent.isServingActive(now: clock.now))
    }
}

@Suite("Candidate and leader")
struct CandidateTests {
    /// The witness, with dc-a down in its own view and in dc-b's heartbeat.
    func witnessSeeingActiveDown(seed: UInt64 = 1, clock: inout ManualClock) throws -> (Election, [ElectionAction]) {
        var election = try Drive.election(Fixture.witness, seed: seed)
        var actions = Drive.run(&election, clock: &clock, for: .milliseconds(1500), healthy: [Fixture.siteB], step: .milliseconds(10))
        actions += election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA]), now: clock.now)
        return (election, actions)
    }

    /// Ticks in 10 ms steps until the election asks for votes; returns how long that took.
    func timeToCandidacy(_ election: inout Election, clock: inout ManualClock) -> (Duration, [ElectionAction])? {
        let start = clock.now
        for _ in 0..<300 {
            clock.advance(by: .milliseconds(10))
            _ = election.handle(.probeResult(site: Fixture.siteB, healthy: true, observedAt: clock.now), now: clock.now)
            let actions = election.handle(.tick, now: clock.now)
            if !actions.voteRequests.isEmpty { return (clock.now - start, actions) }
        }
        return nil
    }

    @Test func standsAfterARandomBackoffForTheHealthyStandbyPersistingItsOwnVoteFirst() throws {
        var delays: Set<Duration> = []
        for seed in UInt64(1)...6 {
            var clock = ManualClock()
            var (election, _) = try witnessSeeingActiveDown(seed: seed, clock: &clock)
            let candidacy = try #require(timeToCandidacy(&election, clock: &clock))
            let (delay, actions) = candidacy
            #expect(delay <= Fixture.policy().candidateBackoff + .milliseconds(10))
            delays.insert(delay)
            let request = try #require(actions.voteRequests.first)
            #expect(request.proposal.activeSite == Fixture.siteB, "the witness stands on behalf of the healthy standby")
            #expect(request.proposal.mirrorDirection == MirrorDirection(from: Fixture.siteB, to: Fixture.siteA))
            #expect(request.proposal.cause == .automaticFailover)
            #expect(request.proposal.epoch == Epoch(1))
            let persistIndex = try #require(actions.firstIndex { $0.isPersist })
            let requestIndex = try #require(actions.firstIndex { if case .broadcast(let m) = $0, case .voteRequest = m.body { true } else { false } })
            #expect(persistIndex < requestIndex)
            #expect(actions.persisted.first?.votedFor == Fixture.witness)
        }
        #expect(delays.count > 1, "the back-off is random: \(delays)")
    }

    @Test func noCandidacyWhenNoStandbyLooksHealthy() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.witness)
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [])
        _ = election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA]), now: clock.now)
        let actions = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [])
        #expect(actions.voteRequests.isEmpty)
    }

    /// The leader waits out the longest lease its voters report before asking anyone to store
    /// the new configuration, and commits only when a majority has stored it.
    @Test func leaderWaitsOutTheOldLeaseThenCommitsOnAMajority() throws {
        var clock = ManualClock()
        var (election, _) = try witnessSeeingActiveDown(clock: &clock)
        clock.advance(by: .seconds(1))  // the witness's own start-up grant (2 s) has run out
        let candidacy = try #require(timeToCandidacy(&election, clock: &clock))
        let actions = candidacy.1
        let epoch = try #require(actions.voteRequests.first?.proposal.epoch)

        let elected = election.handle(Drive.voteGranted(from: Fixture.agentB, to: Fixture.witness, epoch: epoch, leaseRemaining: .milliseconds(1500)), now: clock.now)
        #expect(elected.audits.contains { $0.kind == .elected })
        func commitRequests(_ actions: [ElectionAction]) -> [CommitRequest] {
            actions.sent.compactMap { if case .commitRequest(let request) = $0.0.body { request } else { nil } }
        }
        #expect(commitRequests(elected).isEmpty)

        clock.advance(by: .milliseconds(1490))
        #expect(commitRequests(election.handle(.tick, now: clock.now)).isEmpty, "old lease may still run")
        clock.advance(by: .milliseconds(10))
        let committing = election.handle(.tick, now: clock.now)
        let request = try #require(commitRequests(committing).first)
        let persistIndex = try #require(committing.firstIndex { $0.isPersist })
        let requestIndex = try #require(committing.firstIndex { if case .broadcast(let m) = $0, case .commitRequest = m.body { true } else { false } })
        #expect(persistIndex < requestIndex)
        #expect(election.state.accepted == request.config)
        #expect(election.state.committed == Fixture.initialConfig, "one store of three is not a majority")

        let done = election.handle(
            .received(PeerMessage(from: Fixture.agentB, body: .commitAck(CommitAck(epoch: epoch, accepted: true, voterEpoch: epoch)))),
            now: clock.now)
        #expect(done.contains(.adoptConfig(request.config)))
        #expect(election.state.committed == request.config)
        #expect(!done.contains { if case .promote = $0 { true } else { false } }, "a witness has no site to promote")
    }

    /// Clamped to the longest lease any agent may be configured with, not to this candidate's
    /// own (a voter may have a longer one during a rolling change).
    @Test func absurdLeaseReportsAreClampedToTheLongestLease() throws {
        var clock = ManualClock()
        var (election, _) = try witnessSeeingActiveDown(clock: &clock)
        clock.advance(by: .seconds(1))
        let candidacy = try #require(timeToCandidacy(&election, clock: &clock))
        let actions = candidacy.1
        let epoch = try #require(actions.voteRequests.first?.proposal.epoch)
        _ = election.handle(Drive.voteGranted(from: Fixture.agentB, to: Fixture.witness, epoch: epoch, leaseRemaining: .seconds(1_000_000)), now: clock.now)
        clock.advance(by: ElectionPolicy.longestLease - .milliseconds(1))
        #expect(!election.handle(.tick, now: clock.now).sent.contains { if case .commitRequest = $0.0.body { true } else { false } })
        clock.advance(by: .milliseconds(1))
        let committing = election.handle(.tick, now: clock.now)
        #expect(committing.sent.contains { if case .commitRequest = $0.0.body { true } else { false } })
    }

    @Test func messagesFromStrangersAreIgnored() throws {
        var election = try Drive.election(Fixture.agentB)
        let actions = election.handle(Drive.voteRequest(from: "intruder", proposal: Drive.failoverProposal(epoch: Epoch(9))), now: .origin)
        #expect(actions.sent.isEmpty)
        #expect(actions.audits.contains { $0.kind == .messageRefused })
        #expect(election.state.currentEpoch == .initial)
    }

    /// Only a hand-edited state file can hold the last epoch (peers cannot push an agent there,
    /// see `PeerBoundsTests`); the agent then refuses to stand rather than trap.
    @Test func exhaustedEpochCounterDoesNotTrap() throws {
        var clock = ManualClock()
        let state = ElectionState(currentEpoch: Epoch(.max), votedFor: nil, committed: Fixture.initialConfig)
        var election = try Drive.election(Fixture.witness, state: state)
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        _ = election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA], epoch: Epoch(.max)), now: clock.now)
        let actions = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        #expect(actions.voteRequests.isEmpty)
        #expect(actions.audits.contains { $0.message.contains("exhausted") })
    }
}
