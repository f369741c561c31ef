import Consensus
import Testing

@Suite("Adopting committed configurations")
struct AdoptionTests {
    func heartbeat(from peer: AgentID, committed: SiteConfig, accepted: SiteConfig?) -> ElectionEvent {
        .received(
            PeerMessage(
                from: peer,
                body: .heartbeat(
                    Heartbeat(
                        currentEpoch: max(committed.epoch, accepted?.epoch ?? .initial), committed: committed, accepted: accepted,
                        downSites: [], servingActive: false, maintenance: .off, acknowledgedEpoch: .initial))))
    }

    /// Issue 11, item 5: one peer's heartbeat could impose a "committed" configuration (and
    /// so promote a site or end the active site's lease). Before the fix this witness adopted
    /// e4 from dc-b's heartbeat alone.
    @Test func onePeersWordIsNotACommit() throws {
        var election = try Drive.election(Fixture.witness)
        let claimed = Drive.failoverProposal(epoch: Epoch(4))
        let actions = election.handle(heartbeat(from: Fixture.agentB, committed: claimed, accepted: nil), now: .origin)
        #expect(!actions.contains(.adoptConfig(claimed)))
        #expect(election.state.committed == Fixture.initialConfig)
        #expect(election.state.currentEpoch == .initial)
    }

    @Test func aMajorityShowingItCommitsItAndOlderOnesAreIgnored() throws {
        var election = try Drive.election(Fixture.witness)
        let newer = Drive.failoverProposal(epoch: Epoch(4))
        _ = election.handle(heartbeat(from: Fixture.agentB, committed: newer, accepted: nil), now: .origin)
        let adopted = election.handle(heartbeat(from: Fixture.agentA, committed: Fixture.initialConfig, accepted: newer), now: .origin)
        #expect(adopted.contains(.adoptConfig(newer)))
        #expect(adopted.persisted.last?.committed == newer)
        #expect(election.state.currentEpoch == Epoch(4))

        let older = Drive.failoverProposal(epoch: Epoch(2), to: Fixture.siteA)
        let ignored = election.handle(heartbeat(from: Fixture.agentA, committed: older, accepted: nil), now: .origin)
        #expect(ignored.persisted.isEmpty)
        #expect(election.state.committed == newer)
    }

    /// The leader this voter voted for in an epoch is the only one who can have committed in it.
    @Test func theLeaderThisVoterVotedForIsBelievedAlone() throws {
        let proposal = Drive.failoverProposal(epoch: Epoch(1))
        let state = ElectionState(currentEpoch: Epoch(1), votedFor: Fixture.agentB, committed: Fixture.initialConfig, accepted: proposal)
        var election = try Drive.election(Fixture.witness, state: state)
        let actions = election.handle(heartbeat(from: Fixture.agentB, committed: proposal, accepted: nil), now: .origin)
        #expect(actions.contains(.adoptConfig(proposal)))
        #expect(election.state.committed == proposal)
    }

    /// The leader died after a majority stored its configuration but before saying so:
    /// the stored copies in heartbeats prove the commit.
    @Test func aConfigurationStoredByAMajorityIsCommittedWithoutItsLeader() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.agentB)
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        let proposal = Drive.failoverProposal(epoch: Epoch(1))
        _ = election.handle(.received(PeerMessage(from: Fixture.witness, body: .commitRequest(CommitRequest(config: proposal)))), now: clock.now)
        #expect(election.state.committed == Fixture.initialConfig)

        let actions = election.handle(heartbeat(from: Fixture.agentA, committed: Fixture.initialConfig, accepted: proposal), now: clock.now)
        #expect(election.state.committed == proposal)
        #expect(actions.contains(.promote(proposal)))
    }

    @Test func oneOtherStoredCopyIsNotAMajority() throws {
        var election = try Drive.election(Fixture.agentB)
        let proposal = Drive.failoverProposal(epoch: Epoch(1))
        _ = election.handle(heartbeat(from: Fixture.witness, committed: Fixture.initialConfig, accepted: proposal), now: .origin)
        #expect(election.state.committed == Fixture.initialConfig)
    }

    @Test func aConfigurationNamingAnUnknownSiteIsNeverAdopted() throws {
        var election = try Drive.election(Fixture.witness)
        let bogus = SiteConfig(epoch: Epoch(9), activeSite: "dc-z", mirrorDirection: MirrorDirection(from: "dc-z", to: "dc-a"), cause: .operatorFailover)
        let actions = [Fixture.agentB, Fixture.agentA].flatMap {
            election.handle(heartbeat(from: $0, committed: bogus, accepted: nil), now: .origin)
        }
        #expect(election.state.committed == Fixture.initialConfig)
        #expect(actions.audits.contains { $0.kind == .messageRefused })
    }
}
