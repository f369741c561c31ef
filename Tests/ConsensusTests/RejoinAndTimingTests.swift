import Consensus
import Foundation
import Sites
import Testing

/// Issue 11, items 8, 9 and 10: a voter without durable state, events stamped when they
/// happened, the operator's override, and the election's next deadline.
@Suite("Rejoin, event times and deadlines")
struct RejoinAndTimingTests {
    func operatorProposal(epoch: Epoch) -> SiteConfig { Drive.failoverProposal(epoch: epoch, cause: .operatorFailover) }

    /// Item 8. A voter that lost its state (here: started from the initial state) voted again
    /// in the epoch it had voted in; in rejoin mode it refuses until it has heard a majority
    /// and waited one lease plus one election timeout, and then only votes in newer epochs.
    @Test func aRejoiningVoterVotesOnlyAfterCatchingUpAndOnlyInNewerEpochs() throws {
        var clock = ManualClock()
        // Without rejoin mode (the behaviour before the fix): it grants e3 at once.
        var amnesiac = try Drive.election(Fixture.agentB, now: clock.now)
        let again = amnesiac.handle(Drive.voteRequest(from: Fixture.witness, proposal: operatorProposal(epoch: Epoch(3))), now: clock.now)
        #expect(again.voteResponses.first?.granted == true)

        var voter = try Drive.election(Fixture.agentB, now: clock.now, rejoining: true)
        #expect(voter.isRejoining)
        let early = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: operatorProposal(epoch: Epoch(3))), now: clock.now)
        #expect(early.voteResponses.first?.granted == false)
        let renewal = LeaseRequest(config: Fixture.initialConfig, round: LeaseRound(incarnation: 1, sequence: 1), duration: .seconds(2))
        let lease = voter.handle(.received(PeerMessage(from: Fixture.agentA, body: .leaseRequest(renewal))), now: clock.now)
        #expect(lease.sent.contains { if case .leaseAck(let ack) = $0.0.body { !ack.granted } else { false } })

        // The witness reports e3: with this voter, a majority.
        _ = voter.handle(Drive.heartbeat(from: Fixture.witness, down: [], epoch: Epoch(3)), now: clock.now)
        let caughtUp = voter.handle(.tick, now: clock.now)
        #expect(voter.state.currentEpoch == Epoch(3) && voter.state.votedFor == nil)
        #expect(caughtUp.persisted.last?.currentEpoch == Epoch(3))
        clock.advance(by: .seconds(4) - .milliseconds(1))
        _ = voter.handle(.tick, now: clock.now)
        let waiting = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: operatorProposal(epoch: Epoch(4))), now: clock.now)
        #expect(waiting.voteResponses.first?.granted == false, "2 s lease + 2 s election timeout not over yet")
        clock.advance(by: .milliseconds(1))
        _ = voter.handle(.tick, now: clock.now)
        #expect(!voter.isRejoining)
        _ = voter.handle(.probeResult(site: Fixture.siteB, healthy: true, observedAt: clock.now), now: clock.now)
        let same = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: operatorProposal(epoch: Epoch(3))), now: clock.now)
        #expect(same.voteResponses.first?.granted == false, "never again in the epoch it may have voted in")
        let newer = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: operatorProposal(epoch: Epoch(4))), now: clock.now)
        #expect(newer.voteResponses.first?.granted == true)
    }

    /// Item 8, the file side: a deleted state file is noticed, and the corrupt-file message
    /// no longer advises deleting it without rejoin mode.
    @Test func aDeletedStateFileIsNoticedAndTheCorruptMessageNamesRejoin() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rejoin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = FileElectionStore(directory: directory)
        #expect(!store.stateWasLost, "a first start is not a loss")
        try store.save(Fixture.initialState)
        #expect(!store.stateWasLost)
        try FileManager.default.removeItem(atPath: store.path)
        #expect(store.stateWasLost)
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: store.path))
        #expect {
            _ = try store.load()
        } throws: { error in
            guard let error = error as? ElectionStoreError else { return false }
            return error.code == .corrupted && error.message.contains("--rejoin") && !error.message.contains("delete it to rejoin")
        }
    }

    /// Item 9. After a stall, a good probe result handled late counted as fresh before the fix.
    @Test func aProbeResultCountsFromWhenItWasObserved() throws {
        var election = try Drive.election(Fixture.witness)
        let observed = MonotonicInstant.origin + .milliseconds(200)
        let handled = MonotonicInstant.origin + .seconds(2)
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: true, observedAt: observed), now: handled)
        #expect(election.status(now: handled).sites[0].subjectivelyDown, "observed 1.8 s ago, down_after is 1.5 s")
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: true, observedAt: handled), now: handled)
        #expect(!election.status(now: handled).sites[0].subjectivelyDown)
        // A result from the future (a confused caller) counts as observed now, no later.
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: true, observedAt: handled + .seconds(60)), now: handled)
        #expect(election.status(now: handled + .milliseconds(1500)).sites[0].subjectivelyDown)
    }

    /// Item 9. Deciding alone is refused while this agent hears a majority (it was allowed
    /// before the fix, racing the normal vote).
    @Test func withoutMajorityIsRefusedWhenAMajorityIsReachable() throws {
        var election = try Drive.election(Fixture.agentB)
        _ = election.handle(Drive.heartbeat(from: Fixture.witness, down: []), now: .origin)
        let actions = election.handle(.failover(to: Fixture.siteB, override: SafetyOverride(withoutMajority: true)), now: .origin)
        #expect(actions.voteRequests.isEmpty)
        #expect(election.state.currentEpoch == .initial)
        #expect(actions.audits.contains { $0.message.contains("without a majority refused") })
        // Once the witness's heartbeat is stale, no majority is reachable: the override works.
        let later = MonotonicInstant.origin + .seconds(4)
        let alone = election.handle(.failover(to: Fixture.siteB, override: SafetyOverride(ignoreHealth: true, withoutMajority: true)), now: later)
        #expect(alone.audits.contains { $0.kind == .candidacy })
    }

    /// Item 10. An idle agent's next deadline is its next heartbeat, one probe interval away;
    /// a planned candidacy and a lease wait bring it forward to the instant they are due.
    @Test func theNextDeadlineIsTheNextThingDue() throws {
        var clock = ManualClock()
        // Before its first tick an agent is due at once (a deadline computed from "now" on
        // every event would never come: the agent would never tick at all).
        let fresh = try Drive.election(Fixture.agentB, now: clock.now)
        #expect(fresh.nextDeadline(now: clock.now + .seconds(3)) == clock.now + .seconds(3))
        var standby = try Drive.election(Fixture.agentB, now: clock.now)
        _ = Drive.run(&standby, clock: &clock, for: .seconds(1), healthy: [Fixture.siteA, Fixture.siteB])
        let idle = standby.nextDeadline(now: clock.now)
        #expect(idle > clock.now && idle - clock.now <= Fixture.policy().probeInterval)

        var witness = try Drive.election(Fixture.witness, now: clock.now)
        var planned: MonotonicInstant?
        for _ in 0..<40 {
            clock.advance(by: .milliseconds(100))
            for site in witness.voters.sites {
                _ = witness.handle(.probeResult(site: site, healthy: site != Fixture.siteA, observedAt: clock.now), now: clock.now)
            }
            _ = witness.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA]), now: clock.now)
            let actions = witness.handle(.tick, now: clock.now)
            if actions.audits.contains(where: { $0.kind == .failureDetected }) {
                planned = witness.nextDeadline(now: clock.now)
                break
            }
        }
        let due = try #require(planned)
        // Ticked only at its deadlines from now on, the witness still stands, at the first one
        // that is the back-off's end.
        clock = ManualClock(start: due)
        var stood = false
        for _ in 0..<20 where !stood {
            let actions = witness.handle(.tick, now: clock.now)
            stood = !actions.voteRequests.isEmpty
            let next = witness.nextDeadline(now: clock.now)
            #expect(next > clock.now, "a deadline in the past would spin the timer")
            clock = ManualClock(start: next)
        }
        #expect(stood, "driven only at its deadlines, the witness never stood")
    }
}
