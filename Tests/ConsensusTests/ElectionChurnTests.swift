import Consensus
import Sites
import Testing

/// One failover must not burn through epochs: while the elected leader waits out the old
/// active site's lease, the other voters hold back instead of standing themselves (each new
/// candidacy would bump the epoch and make voters stop honouring the waiting leader).
@Suite("Election churn")
struct ElectionChurnTests {
    /// The agent runtime's defaults (lease 4 s, back-off 2 s, election timeout 5 s).
    static let runtimePolicy = ElectionPolicy(homeSite: Fixture.siteA, blockPeriod: .seconds(600))

    /// Takes dc-a's cluster down (its agent keeps running, as in the audit trail) and runs
    /// until every agent has committed a configuration naming dc-b.
    /// - Returns: the highest epoch any agent reached by then (e0 was the initial one, so
    ///   this is the number of epochs the failover used) and how long it took.
    static func epochsForFailover(seed: UInt64, policy: ElectionPolicy) throws -> (epochs: UInt64, took: Duration) {
        var cluster = try SimulatedCluster(voters: Fixture.voters(), policy: policy, seed: seed)
        cluster.keepRecords = false
        cluster.run(for: .seconds(5))
        let start = cluster.now
        cluster.clusterUp[Fixture.siteA] = false
        let agents = try Fixture.voters().all
        while cluster.now - start < .seconds(120) {
            cluster.run(for: .milliseconds(100))
            let committed = agents.compactMap { cluster.election($0)?.state.committed }
            if committed.count == agents.count, committed.allSatisfy({ $0.activeSite == Fixture.siteB }),
                cluster.servingSites == [Fixture.siteB]
            {
                #expect(cluster.violations.isEmpty, "seed \(seed): \(cluster.violations.prefix(3))")
                let used = agents.compactMap { cluster.election($0)?.state.currentEpoch.rawValue }.max() ?? 0
                return (used, cluster.now - start)
            }
        }
        Issue.record("seed \(seed): no failover to dc-b within 120 s")
        return (.max, .seconds(120))
    }

    static func measure(_ name: String, policy: ElectionPolicy, seeds: ClosedRange<UInt64>) throws -> [UInt64] {
        var epochs: [UInt64] = []
        var slowest = Duration.zero
        for seed in seeds {
            let result = try epochsForFailover(seed: seed, policy: policy)
            epochs.append(result.epochs)
            slowest = max(slowest, result.took)
        }
        let mean = Double(epochs.reduce(0, +)) / Double(epochs.count)
        print("failover churn (\(name)): seeds=\(seeds.count) epochs-per-failover mean=\(mean) max=\(epochs.max() ?? 0) slowest=\(slowest)")
        return epochs
    }

    @Test func activeSiteDownUsesAtMostTwoEpochsWithRuntimeTimings() throws {
        let epochs = try Self.measure("runtime timings", policy: Self.runtimePolicy, seeds: 1...20)
        #expect(epochs.allSatisfy { $0 <= 2 }, "epochs per failover: \(epochs)")
    }

    @Test func activeSiteDownUsesAtMostTwoEpochsWithTestTimings() throws {
        let epochs = try Self.measure("test timings", policy: Fixture.policy(), seeds: 1...20)
        #expect(epochs.allSatisfy { $0 <= 2 }, "epochs per failover: \(epochs)")
    }

    /// Liveness: the leader crashes while it waits out the old lease. The voters that
    /// supported it hold back only until their hold-back runs out; then one of them stands and
    /// wins, and dc-b ends up active (its agent restarted).
    @Test func whenTheLeaderDiesWhileWaitingAnotherCandidateWinsLater() throws {
        let agents = try Fixture.voters().all
        for seed: UInt64 in 1...10 {
            var cluster = try SimulatedCluster(voters: Fixture.voters(), policy: Self.runtimePolicy, seed: seed)
            cluster.keepRecords = false
            cluster.run(for: .seconds(5))
            cluster.clusterUp[Fixture.siteA] = false
            var leader: AgentID?
            var waited = Duration.zero
            while leader == nil, waited < .seconds(60) {
                cluster.run(for: .milliseconds(100))
                waited += .milliseconds(100)
                leader = agents.first { id in
                    cluster.election(id)?.status(now: cluster.localNow(id)).election?.hasPrefix("elected in") == true
                }
            }
            let dead = try #require(leader, "seed \(seed): nobody was elected")
            let abandoned = try #require(cluster.election(dead)?.state.currentEpoch)
            cluster.crash(dead)
            let survivors = agents.filter { $0 != dead }
            waited = .zero
            func committedOnB() -> Bool {
                survivors.allSatisfy { id in
                    guard let committed = cluster.election(id)?.state.committed else { return false }
                    return committed.activeSite == Fixture.siteB && committed.epoch > abandoned
                }
            }
            while !committedOnB(), waited < .seconds(60) {
                cluster.run(for: .milliseconds(100))
                waited += .milliseconds(100)
            }
            #expect(committedOnB(), "seed \(seed): survivors \(survivors) did not commit dc-b after \(dead) died")
            try cluster.start(dead)
            cluster.run(for: .seconds(10))
            #expect(cluster.servingSites == [Fixture.siteB], "seed \(seed)")
            #expect(cluster.violations.isEmpty, "seed \(seed): \(cluster.violations.prefix(3))")
        }
    }
}

/// The hold-back rule on one voter, driven by hand.
@Suite("Leader stickiness")
struct LeaderStickinessTests {
    /// The witness, seeing dc-a down itself and told so by dc-b: dc-a is objectively down.
    func witnessSeeingActiveDown(clock: inout ManualClock) throws -> Election {
        var witness = try Drive.election(Fixture.witness)
        _ = run(&witness, clock: &clock, for: .seconds(2))
        return witness
    }

    /// Probes (dc-b healthy, dc-a not) and dc-b's heartbeats, for `duration`.
    func run(_ election: inout Election, clock: inout ManualClock, for duration: Duration) -> [ElectionAction] {
        var actions: [ElectionAction] = []
        var elapsed = Duration.zero
        while elapsed < duration {
            actions += election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA]), now: clock.now)
            actions += Drive.run(&election, clock: &clock, for: .milliseconds(500), healthy: [Fixture.siteB])
            elapsed += .milliseconds(500)
        }
        return actions
    }

    @Test func aVoterThatGrantedNeitherStandsNorVotesForARivalWhileTheLeaderFinishes() throws {
        var clock = ManualClock()
        var witness = try witnessSeeingActiveDown(clock: &clock)
        let granted = witness.handle(
            Drive.voteRequest(from: Fixture.agentB, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        #expect(granted.voteResponses.first?.granted == true)

        // Without the hold-back, the witness stood itself within its 1 s back-off.
        let during = run(&witness, clock: &clock, for: .milliseconds(1500))
        #expect(during.voteRequests.isEmpty, "no candidacy of its own while dc-b's election runs")
        #expect(witness.state.currentEpoch == Epoch(1))

        let rival = witness.handle(
            Drive.voteRequest(from: Fixture.agentA, proposal: Drive.failoverProposal(epoch: Epoch(2))), now: clock.now)
        let refusal = try #require(rival.voteResponses.first)
        #expect(!refusal.granted)
        #expect(refusal.reason.contains("supporting agent-b"))
        #expect(rival.persisted.isEmpty, "the refusal must not move the epoch away from the leader's")

        // dc-b's commit request extends the support; storing it is what the leader needs.
        let commit = witness.handle(
            .received(PeerMessage(from: Fixture.agentB, body: .commitRequest(CommitRequest(config: Drive.failoverProposal(epoch: Epoch(1)))))),
            now: clock.now)
        #expect(commit.persisted.first?.accepted == Drive.failoverProposal(epoch: Epoch(1)))
    }

    /// Liveness: if the leader it voted for goes silent, the witness stands itself once the
    /// hold-back (lease remaining + election timeout) is over.
    @Test func theHoldBackEndsSoAnotherCandidateCanWinWhenTheLeaderDies() throws {
        var clock = ManualClock()
        var witness = try witnessSeeingActiveDown(clock: &clock)
        _ = witness.handle(
            Drive.voteRequest(from: Fixture.agentB, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        // Hold-back: the lease it reported (none left: it granted no renewal) + the 2 s
        // election timeout; then a back-off of at most 1 s.
        let during = run(&witness, clock: &clock, for: .milliseconds(1500))
        #expect(during.voteRequests.isEmpty)
        let after = run(&witness, clock: &clock, for: .milliseconds(2500))
        let request = try #require(after.voteRequests.first, "the witness stands once the hold-back is over")
        #expect(request.proposal.epoch == Epoch(2))
        #expect(request.proposal.activeSite == Fixture.siteB)

        // A rival in a newer epoch is granted again too.
        let rival = witness.handle(
            Drive.voteRequest(from: Fixture.agentA, proposal: Drive.failoverProposal(epoch: Epoch(7))), now: clock.now)
        #expect(rival.voteResponses.first?.granted == true)
    }

    /// The voter's own fresh view that the supported election is dead (its target site down)
    /// ends the hold-back at once: with three sites, another standby may then be elected.
    @Test func seeingTheProposedSiteDownEndsTheHoldBack() throws {
        let siteC: SiteID = "dc-c"
        let agentC: AgentID = "agent-c"
        let voters = try Voters(
            members: [Fixture.siteA: Fixture.agentA, Fixture.siteB: Fixture.agentB, siteC: agentC],
            witnesses: [Fixture.witness, "witness-2"])
        var clock = ManualClock()
        var witness = try Drive.election(Fixture.witness, voters: voters)
        _ = Drive.run(&witness, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB, siteC])
        _ = witness.handle(
            Drive.voteRequest(from: Fixture.agentB, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        func toC(_ epoch: Epoch) -> ElectionEvent {
            let proposal = SiteConfig(
                epoch: epoch, activeSite: siteC, mirrorDirection: MirrorDirection(from: siteC, to: Fixture.siteA),
                cause: .automaticFailover)
            return Drive.voteRequest(from: agentC, proposal: proposal)
        }
        let held = witness.handle(toC(Epoch(2)), now: clock.now)
        #expect(held.voteResponses.first?.granted == false)

        _ = Drive.run(&witness, clock: &clock, for: .seconds(2), healthy: [siteC])
        let released = witness.handle(toC(Epoch(3)), now: clock.now)
        #expect(released.voteResponses.first?.granted == true, "\(released.voteResponses.first?.reason ?? "no reply")")
    }
}
