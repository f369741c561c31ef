import Consensus
import Testing

@Suite("Two sites without a witness")
struct TwoSiteTests {
    @Test func warnsAndReportsAutomaticFailoverDisabled() throws {
        var election = try Drive.election(Fixture.agentB, voters: Fixture.voters(withWitness: false))
        let actions = election.handle(.tick, now: .origin)
        #expect(actions.audits.contains { $0.kind == .warning && $0.message.contains("no witness") })
        let status = election.status(now: .origin)
        #expect(!status.automaticFailover)
        #expect(status.warnings.count == 1)
        // Said once, at start-up, not on every event.
        #expect(election.handle(.tick, now: .origin).audits.isEmpty)
    }

    @Test func activeSiteDownDoesNotFailOverOnItsOwn() throws {
        var cluster = try SimulatedCluster(voters: Fixture.voters(withWitness: false), policy: Fixture.policy(), seed: 5)
        cluster.run(for: .seconds(3))
        #expect(cluster.servingSites == [Fixture.siteA])
        cluster.clusterUp[Fixture.siteA] = false
        cluster.run(for: .seconds(20))
        #expect(cluster.election(Fixture.agentB)?.state.committed.epoch == .initial)
        #expect(cluster.promotions.isEmpty)
    }

    @Test func operatorSwitchoverWorksWhenBothSitesAreUp() throws {
        var cluster = try SimulatedCluster(voters: Fixture.voters(withWitness: false), policy: Fixture.policy(), seed: 7)
        cluster.run(for: .seconds(3))
        cluster.command(.switchover(to: Fixture.siteB), at: Fixture.agentA)
        cluster.run(for: .seconds(6))
        #expect(cluster.election(Fixture.agentA)?.state.committed.activeSite == Fixture.siteB)
        #expect(cluster.servingSites == [Fixture.siteB])
        #expect(cluster.violations.isEmpty)
    }

    /// With dc-a's agent gone there is no majority of two; the operator forces dc-b alone.
    @Test func operatorFailoverWithoutMajorityPromotesTheSurvivor() throws {
        var cluster = try SimulatedCluster(voters: Fixture.voters(withWitness: false), policy: Fixture.policy(), seed: 6)
        cluster.run(for: .seconds(3))
        cluster.crash(Fixture.agentA)
        cluster.clusterUp[Fixture.siteA] = false
        cluster.run(for: .seconds(3))

        cluster.command(.failover(to: Fixture.siteB, override: .none), at: Fixture.agentB)
        cluster.run(for: .seconds(5))
        #expect(cluster.election(Fixture.agentB)?.state.committed.activeSite == Fixture.siteA, "no majority without the override")

        cluster.operatorMayDecideAlone = true
        cluster.command(.failover(to: Fixture.siteB, override: SafetyOverride(withoutMajority: true)), at: Fixture.agentB)
        cluster.run(for: .seconds(5))
        let committed = try #require(cluster.election(Fixture.agentB)?.state.committed)
        #expect(committed.activeSite == Fixture.siteB)
        #expect(committed.cause == .operatorFailover)
        #expect(cluster.promotions.map(\.agent) == [Fixture.agentB])

        // dc-a returns: it adopts the newer configuration, and both agents renew dc-b's lease.
        cluster.clusterUp[Fixture.siteA] = true
        try cluster.start(Fixture.agentA)
        cluster.run(for: .seconds(5))
        #expect(cluster.election(Fixture.agentA)?.state.committed == committed)
        #expect(cluster.servingSites == [Fixture.siteB])
        #expect(cluster.violations.isEmpty)
    }
}

@Suite("Operator commands")
struct OperatorTests {
    @Test func maintenanceIsPersistedAndStopsCandidacy() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.witness)
        let actions = election.handle(.setMaintenance(true), now: clock.now)
        #expect(actions.persisted.last?.maintenance.enabled == true)
        #expect(actions.sent.contains { if case .heartbeat(let h) = $0.0.body { h.maintenance.enabled } else { false } })
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        _ = election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA]), now: clock.now)
        let later = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        #expect(later.voteRequests.isEmpty)
        #expect(election.status(now: clock.now).maintenance)

        // A restart keeps it: it came from the persisted state.
        var restarted = try Drive.election(Fixture.witness, state: election.state, seed: 9, now: clock.now)
        #expect(restarted.status(now: clock.now).maintenance)
        _ = restarted.handle(.setMaintenance(false), now: clock.now)
        #expect(!restarted.state.maintenance.enabled)
    }

    @Test func newerMaintenanceMarkWins() {
        let older = MaintenanceMark(enabled: true, stamp: 3, by: "agent-b")
        let newer = MaintenanceMark(enabled: false, stamp: 4, by: "agent-a")
        #expect(newer.isNewer(than: older))
        #expect(!older.isNewer(than: newer))
        #expect(MaintenanceMark(enabled: true, stamp: 4, by: "witness").isNewer(than: newer), "ties break by agent")
    }

    @Test func voterInMaintenanceRefusesAutomaticButNotOperatorVotes() throws {
        var clock = ManualClock()
        var voter = try Drive.election(Fixture.agentB)
        _ = voter.handle(.setMaintenance(true), now: clock.now)
        _ = Drive.run(&voter, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        let automatic = voter.handle(Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        #expect(automatic.voteResponses.first?.granted == false)
        #expect(automatic.voteResponses.first?.reason.contains("maintenance") == true)
        let forced = voter.handle(
            Drive.voteRequest(from: Fixture.witness, proposal: Drive.failoverProposal(epoch: Epoch(1), cause: .operatorFailover)), now: clock.now)
        #expect(forced.voteResponses.first?.granted == true)
    }

    @Test func blockedAfterAnAutomaticFailoverUntilAcknowledged() throws {
        var clock = ManualClock()
        var voter = try Drive.election(Fixture.witness)
        let failedOver = Drive.failoverProposal(epoch: Epoch(1))
        let adopted = Drive.heartbeats(from: [Fixture.agentB, Fixture.agentA], down: [], epoch: Epoch(1), committed: failedOver)
            .flatMap { voter.handle($0, now: clock.now) }
        #expect(adopted.audits.contains { $0.kind == .blocked })
        #expect(voter.status(now: clock.now).blockedFor == Fixture.policy().blockPeriod)

        // dc-b fails; a failback is asked for while blocked.
        _ = Drive.run(&voter, clock: &clock, for: .seconds(2), healthy: [Fixture.siteA])
        let back = SiteConfig(
            epoch: Epoch(2), activeSite: Fixture.siteA, mirrorDirection: MirrorDirection(from: Fixture.siteA, to: Fixture.siteB),
            cause: .automaticFailover)
        let refused = voter.handle(Drive.voteRequest(from: Fixture.agentA, proposal: back, base: failedOver), now: clock.now)
        #expect(refused.voteResponses.first?.reason.contains("blocked") == true)

        let acknowledged = voter.handle(.acknowledge, now: clock.now)
        #expect(acknowledged.persisted.last?.acknowledgedEpoch == Epoch(1))
        #expect(voter.status(now: clock.now).blockedFor == nil)
        let granted = voter.handle(Drive.voteRequest(from: Fixture.agentA, proposal: back, base: failedOver), now: clock.now)
        #expect(granted.voteResponses.first?.granted == true)
    }

    @Test func blockPeriodEndsOnItsOwn() throws {
        var clock = ManualClock()
        var voter = try Drive.election(Fixture.witness)
        _ = voter.handle(Drive.heartbeat(from: Fixture.agentB, down: [], epoch: Epoch(1), committed: Drive.failoverProposal(epoch: Epoch(1))), now: clock.now)
        clock.advance(by: Fixture.policy().blockPeriod)
        #expect(voter.status(now: clock.now).blockedFor == nil)
    }

    @Test func switchoverToTheActiveOrAnUnknownSiteIsRefused() throws {
        var election = try Drive.election(Fixture.witness)
        let same = election.handle(.switchover(to: Fixture.siteA), now: .origin)
        #expect(same.voteRequests.isEmpty)
        #expect(same.audits.contains { $0.message.contains("already active") })
        let unknown = election.handle(.failover(to: "dc-z", override: SafetyOverride(ignoreHealth: true)), now: .origin)
        #expect(unknown.voteRequests.isEmpty)
        #expect(unknown.audits.contains { $0.message.contains("unknown site") })
    }

    @Test func invalidSetupsAreRejectedWithTheKeyToFix() throws {
        #expect(throws: ElectionConfigError.self) { try Voters(members: ["dc-a": "agent-a"], witnesses: []) }
        #expect(throws: ElectionConfigError.self) { try Voters(members: ["dc-a": "x", "dc-b": "y"], witnesses: ["x"]) }
        let voters = try Fixture.voters()
        var policy = Fixture.policy()
        policy.leaseSafetyMargin = .seconds(5)
        let error = try #require(throws: ElectionConfigError.self) { try policy.validate(voters: voters) }
        #expect(error.key == "detection.lease_safety_margin")
        var absurd = Fixture.policy()
        absurd.blockPeriod = .seconds(Int64.max / 2)
        let tooLong = try #require(throws: ElectionConfigError.self) { try absurd.validate(voters: voters) }
        #expect(tooLong.key == "failover.block_period")
        #expect(throws: ElectionConfigError.self) {
            try Election(agent: "stranger", voters: voters, policy: Fixture.policy(), state: Fixture.initialState, randomSeed: 1, now: .origin)
        }
    }
}
