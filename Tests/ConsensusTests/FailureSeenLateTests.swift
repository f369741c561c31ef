import Consensus
import Testing

/// A voter asked to fail over before it sees the failure itself (its probes are a little
/// behind the candidate's) refuses, but holds back for that election instead of standing for
/// the same change in a newer epoch moments later. Seen in the multi-process blackhole
/// scenario: the witness stood in e2 while dc-b's e1 election was finishing, spending an epoch
/// and refusing dc-b's commit.
@Suite("A failure seen late")
struct FailureSeenLateTests {
    static let activeLease = ElectionEvent.received(
        PeerMessage(
            from: Fixture.agentA,
            body: .leaseRequest(LeaseRequest(config: Fixture.initialConfig, round: LeaseRound(incarnation: 1, sequence: 1), duration: .seconds(2)))))

    /// The witness: granted dc-a's lease, then asked by dc-b to fail over while it still sees dc-a up.
    func witnessAskedEarly(clock: inout ManualClock) throws -> (Election, [ElectionAction]) {
        var witness = try Drive.election(Fixture.witness, now: clock.now)
        _ = witness.handle(Self.activeLease, now: clock.now)
        _ = Drive.run(&witness, clock: &clock, for: .milliseconds(500), healthy: [Fixture.siteA, Fixture.siteB])
        let asked = witness.handle(Drive.voteRequest(from: Fixture.agentB, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        return (witness, asked)
    }

    /// `duration` in which the witness sees dc-a down, and so does dc-b (its heartbeats say so):
    /// a majority, so dc-a is objectively down for the witness.
    func seeDown(_ witness: inout Election, clock: inout ManualClock, for duration: Duration) -> [ElectionAction] {
        var actions: [ElectionAction] = []
        var elapsed = Duration.zero
        while elapsed < duration {
            actions += Drive.run(&witness, clock: &clock, for: .milliseconds(200), healthy: [Fixture.siteB])
            actions += witness.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA], epoch: Epoch(1)), now: clock.now)
            elapsed += .milliseconds(200)
        }
        return actions
    }

    @Test func theVoterRefusesButDoesNotStandForTheSameChangeWhileThatElectionRuns() throws {
        var clock = ManualClock()
        var (witness, asked) = try witnessAskedEarly(clock: &clock)
        #expect(asked.voteResponses.first?.granted == false, "it does not see dc-a down yet")
        // Now it sees dc-a down too; dc-b's election (lease wait, commit) is still under way.
        let later = seeDown(&witness, clock: &clock, for: .seconds(3))
        #expect(later.voteRequests.isEmpty, "stood in \(later.voteRequests.map(\.proposal.epoch)) while dc-b's e1 election ran")
        let commit = witness.handle(
            .received(PeerMessage(from: Fixture.agentB, body: .commitRequest(CommitRequest(config: Drive.failoverProposal(epoch: Epoch(1)))))),
            now: clock.now)
        let ack = commit.sent.compactMap { if case .commitAck(let ack) = $0.0.body { ack } else { nil } }.first
        #expect(ack?.accepted == true, "dc-b's commit must find the witness still in e1's reach")
    }

    @Test func theHoldEndsSoItStandsItselfWhenThatElectionNeverFinishes() throws {
        var clock = ManualClock()
        var (witness, _) = try witnessAskedEarly(clock: &clock)
        // dc-b's agent dies mid-election: no commit comes. The witness stands once its hold ends.
        let later = seeDown(&witness, clock: &clock, for: .seconds(8))
        let request = try #require(later.voteRequests.first, "the witness never stood for dc-b")
        #expect(request.proposal.activeSite == Fixture.siteB && request.proposal.epoch == Epoch(2))
    }

    @Test func aCommitIsAuditedWithTheCommittedEpochEvenByAnAgentPastIt() throws {
        // The witness stood in e2 and lost; dc-b's e1 configuration reaches it afterwards.
        let state = ElectionState(currentEpoch: Epoch(2), votedFor: Fixture.witness, committed: Fixture.initialConfig)
        var witness = try Drive.election(Fixture.witness, state: state)
        let committed = Drive.failoverProposal(epoch: Epoch(1))
        let actions = Drive.heartbeats(from: [Fixture.agentB, Fixture.agentA], down: [Fixture.siteA], epoch: Epoch(1), committed: committed)
            .flatMap { witness.handle($0, now: .origin) }
        let record = try #require(actions.audits.first { $0.kind == .committed })
        #expect(record.epoch == Epoch(1), "audited as \(record.epoch): alerts and audit readers key a commit by its epoch")
        #expect(witness.state.committed == committed && witness.state.currentEpoch == Epoch(2))
    }
}
