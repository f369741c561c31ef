import Consensus
import Sites
import Testing

/// Issue 11, items 3 and 5: what one peer's message may make a voter do.
@Suite("Votes, commits and numbers from peers")
struct PeerTrustTests {
    /// `id` sees dc-a down (its own probes and the other voter's heartbeat) until it stands.
    func candidate(_ id: AgentID, other: AgentID, clock: inout ManualClock) throws -> (Election, VoteRequest) {
        var election = try Drive.election(id, now: clock.now)
        for _ in 0..<100 {
            clock.advance(by: .milliseconds(100))
            for site in election.voters.sites {
                _ = election.handle(.probeResult(site: site, healthy: site != Fixture.siteA, observedAt: clock.now), now: clock.now)
            }
            _ = election.handle(Drive.heartbeat(from: other, down: [Fixture.siteA]), now: clock.now)
            if let request = election.handle(.tick, now: clock.now).voteRequests.first { return (election, request) }
        }
        throw CandidacyNeverStarted()
    }

    struct CandidacyNeverStarted: Error {}

    func vote(from voter: AgentID, for candidate: AgentID, epoch: Epoch) -> ElectionEvent {
        Drive.voteGranted(from: voter, to: candidate, epoch: epoch, leaseRemaining: .zero)
    }

    /// Item 3. A vote dc-a gave dc-b in e1, replayed or misdelivered to the witness (also a
    /// candidate in e1), counted for the witness before the fix: two leaders in e1.
    @Test func aVoteNamingAnotherCandidateDoesNotCount() throws {
        var clock = ManualClock()
        var (witness, request) = try candidate(Fixture.witness, other: Fixture.agentB, clock: &clock)
        let replayed = witness.handle(vote(from: Fixture.agentA, for: Fixture.agentB, epoch: request.proposal.epoch), now: clock.now)
        #expect(!replayed.audits.contains { $0.kind == .elected }, "a vote for dc-b made the witness leader")
        let own = witness.handle(vote(from: Fixture.agentA, for: Fixture.witness, epoch: request.proposal.epoch), now: clock.now)
        #expect(own.audits.contains { $0.kind == .elected })
    }

    /// Item 3. A voter that voted for the witness in e1 stores an e1 commit only from the
    /// witness; before the fix it stored dc-a's too (any peer at its epoch).
    @Test func aCommitInTheVotersEpochIsTakenOnlyFromItsCandidate() throws {
        let proposal = Drive.failoverProposal(epoch: Epoch(1))
        let state = ElectionState(currentEpoch: Epoch(1), votedFor: Fixture.witness, committed: Fixture.initialConfig)
        var voter = try Drive.election(Fixture.agentB, state: state)
        func commit(from peer: AgentID) -> ElectionEvent {
            .received(PeerMessage(from: peer, body: .commitRequest(CommitRequest(config: proposal))))
        }
        func ack(_ actions: [ElectionAction]) -> CommitAck? {
            actions.sent.compactMap { if case .commitAck(let ack) = $0.0.body { ack } else { nil } }.first
        }
        let foreign = voter.handle(commit(from: Fixture.agentA), now: .origin)
        #expect(ack(foreign)?.accepted == false)
        #expect(voter.state.accepted == nil)
        let own = voter.handle(commit(from: Fixture.witness), now: .origin)
        #expect(ack(own)?.accepted == true)
        #expect(voter.state.accepted == proposal)
        // A newer epoch (in which this voter took no part) is taken from whoever leads it.
        let newer = Drive.failoverProposal(epoch: Epoch(2))
        let later = voter.handle(.received(PeerMessage(from: Fixture.agentA, body: .commitRequest(CommitRequest(config: newer)))), now: .origin)
        #expect(ack(later)?.accepted == true)
    }

    /// Item 5. A vote request at `UInt64.max` was granted and persisted before the fix: that
    /// voter could never vote again (no newer epoch exists).
    @Test func aVoteRequestFarAheadIsRefusedAndChangesNothing() throws {
        var clock = ManualClock()
        var voter = try Drive.election(Fixture.agentB, now: clock.now)
        _ = Drive.run(&voter, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        let far = Epoch(PeerBounds.epochStep + 1)
        let actions = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(.max))), now: clock.now)
        #expect(actions.voteResponses.first?.granted == false)
        #expect(actions.persisted.isEmpty)
        #expect(voter.state.currentEpoch == .initial)
        let justTooFar = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: far)), now: clock.now)
        #expect(justTooFar.voteResponses.first?.granted == false)
        let within = voter.handle(
            Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(PeerBounds.epochStep))), now: clock.now)
        #expect(within.voteResponses.first?.granted == true, "\(within.voteResponses)")
    }

    /// Item 5. An epoch of `UInt64.max` in a heartbeat exhausted the next candidacy's epoch
    /// counter before the fix; now it is believed only up to the step.
    @Test func anAbsurdEpochInAHeartbeatDoesNotEndElections() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.witness, now: clock.now)
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        _ = election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA], epoch: Epoch(.max)), now: clock.now)
        let actions = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        let request = try #require(actions.voteRequests.first)
        #expect(request.proposal.epoch == Epoch(PeerBounds.epochStep + 1))
    }

    /// Item 5. A maintenance stamp of `UInt64.max` won every later toggle before the fix, and
    /// an `acknowledgedEpoch` of `UInt64.max` lifted every future block period.
    @Test func absurdMaintenanceStampsAndAcknowledgementsAreNotTaken() throws {
        var election = try Drive.election(Fixture.agentB)
        let heartbeat = Heartbeat(
            currentEpoch: .initial, committed: Fixture.initialConfig, accepted: nil, downSites: [], servingActive: false,
            maintenance: MaintenanceMark(enabled: true, stamp: .max, by: Fixture.witness), acknowledgedEpoch: Epoch(.max))
        let actions = election.handle(.received(PeerMessage(from: Fixture.witness, body: .heartbeat(heartbeat))), now: .origin)
        #expect(election.state.maintenance == .off)
        #expect(election.state.acknowledgedEpoch == .initial)
        #expect(actions.audits.contains { $0.kind == .messageRefused && $0.message.contains("maintenance stamp") })
        // A real toggle elsewhere (one step ahead) is taken as before.
        var next = heartbeat
        next.maintenance = MaintenanceMark(enabled: true, stamp: 1, by: Fixture.witness)
        next.acknowledgedEpoch = .initial
        _ = election.handle(.received(PeerMessage(from: Fixture.witness, body: .heartbeat(next))), now: .origin)
        #expect(election.state.maintenance.enabled)
    }
}
