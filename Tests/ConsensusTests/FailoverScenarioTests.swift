import Consensus
import Sites
import Testing

/// The failure cases of DESIGN.md §6, each run on three simulated agents.
@Suite("Failover scenarios")
struct FailoverScenarioTests {
    let a = Fixture.agentA
    let b = Fixture.agentB
    let w = Fixture.witness

    func cluster(seed: UInt64 = 1, policy: ElectionPolicy = Fixture.policy()) throws -> SimulatedCluster {
        var cluster = try SimulatedCluster(voters: Fixture.voters(), policy: policy, seed: seed)
        cluster.run(for: .seconds(3))
        return cluster
    }

    /// Runs in small steps, asserting the same serving sites after each.
    func expectServing(_ sites: [SiteID], in cluster: inout SimulatedCluster, for duration: Duration) {
        var elapsed = Duration.zero
        while elapsed < duration {
            cluster.run(for: .milliseconds(250))
            elapsed += .milliseconds(250)
            #expect(cluster.servingSites == sites, "at t=\(cluster.now)")
        }
    }

    @Test func steadyStateServesTheInitialActiveSite() throws {
        var cluster = try cluster()
        expectServing([Fixture.siteA], in: &cluster, for: .seconds(10))
        #expect(cluster.committedConfigs.keys.max() == .initial)
        #expect(cluster.violations.isEmpty)
    }

    @Test func activeSiteDownElectsTheStandby() throws {
        var cluster = try cluster()
        cluster.clusterUp[Fixture.siteA] = false
        cluster.run(for: .seconds(10))
        for id in [a, b, w] {
            let committed = try #require(cluster.election(id)?.state.committed)
            #expect(committed.activeSite == Fixture.siteB)
            #expect(committed.mirrorDirection == MirrorDirection(from: Fixture.siteB, to: Fixture.siteA))
            #expect(committed.cause == .automaticFailover)
            #expect(committed.epoch >= Epoch(1))
        }
        #expect(cluster.promotions.map(\.agent) == [b])
        #expect(cluster.servingSites == [Fixture.siteB])
        #expect(cluster.violations.isEmpty)
    }

    @Test func witnessLostChangesNothing() throws {
        var cluster = try cluster()
        cluster.crash(w)
        expectServing([Fixture.siteA], in: &cluster, for: .seconds(15))
        #expect(cluster.election(b)?.state.committed.epoch == .initial)
        #expect(cluster.promotions.isEmpty)
    }

    @Test func standbyLostChangesNothing() throws {
        var cluster = try cluster()
        cluster.crash(b)
        cluster.clusterUp[Fixture.siteB] = false
        expectServing([Fixture.siteA], in: &cluster, for: .seconds(15))
        #expect(cluster.election(a)?.state.committed.epoch == .initial)
        #expect(cluster.promotions.isEmpty)
    }

    /// dc-a and dc-b each see the other down, but the witness sees both up: no majority sees
    /// the active site down, so nothing fails over, and the active keeps its lease through
    /// the witness.
    @Test func cutBetweenSitesWhileBothReachTheWitnessCausesNoFailover() throws {
        var cluster = try cluster()
        cluster.cutLink(a, b)
        expectServing([Fixture.siteA], in: &cluster, for: .seconds(30))
        #expect(cluster.committedConfigs.keys.max() == .initial)
        #expect(cluster.promotions.isEmpty)
        #expect(cluster.violations.isEmpty)
    }

    /// The active site's agent cut off from both peers: it must stop serving before the
    /// other side promotes, and report itself fenced.
    @Test func isolatedActiveStopsServingBeforeTheOtherSidePromotes() throws {
        var cluster = try cluster()
        cluster.isolate(a)
        cluster.run(for: .seconds(15))
        let stopped = try #require(cluster.records(of: a).first { if case .stopServingActive = $0.action { true } else { false } })
        let promoted = try #require(cluster.promotions.first)
        #expect(promoted.agent == b)
        #expect(stopped.at < promoted.at)
        let started = try #require(cluster.records(of: b).first { if case .startServingActive = $0.action { true } else { false } })
        #expect(stopped.at < started.at)
        #expect(cluster.servingSites == [Fixture.siteB])
        let status = try #require(cluster.election(a)?.status(now: cluster.localNow(a)))
        guard case .fenced = status.serving else {
            Issue.record("isolated active should report fenced, got \(status.serving)")
            return
        }
        #expect(cluster.violations.isEmpty)

        // Healed, the old active adopts the newer configuration and becomes a standby.
        cluster.healAll()
        cluster.run(for: .seconds(3))
        #expect(cluster.election(a)?.state.committed.activeSite == Fixture.siteB)
        #expect(cluster.election(a)?.status(now: cluster.localNow(a)).serving == .standby)
    }

    /// After an automatic failover, dc-b failing too does not move the active site back:
    /// the block period holds until an operator acknowledges.
    @Test func blockPeriodHoldsUntilAcknowledged() throws {
        var cluster = try cluster()
        cluster.clusterUp[Fixture.siteA] = false
        cluster.run(for: .seconds(10))
        #expect(cluster.servingSites == [Fixture.siteB])
        cluster.clusterUp[Fixture.siteA] = true
        cluster.run(for: .seconds(3))
        cluster.clusterUp[Fixture.siteB] = false
        cluster.run(for: .seconds(10))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteB, "blocked: no second failover")
        #expect(cluster.election(w)?.status(now: cluster.localNow(w)).blockedFor != nil)

        cluster.command(.acknowledge, at: w)
        cluster.run(for: .seconds(10))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteA)
        #expect(cluster.servingSites == [Fixture.siteA])
        #expect(cluster.violations.isEmpty)
    }

    @Test func maintenanceModePausesAutomaticFailoverEverywhere() throws {
        var cluster = try cluster()
        cluster.command(.setMaintenance(true), at: w)
        cluster.run(for: .seconds(1))
        #expect(cluster.election(b)?.state.maintenance.enabled == true, "maintenance spreads by heartbeat")
        cluster.clusterUp[Fixture.siteA] = false
        cluster.run(for: .seconds(10))
        #expect(cluster.election(b)?.state.committed.epoch == .initial)
        #expect(cluster.promotions.isEmpty)

        cluster.command(.setMaintenance(false), at: b)
        cluster.run(for: .seconds(10))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteB)
    }

    @Test func failbackIsManualByDefault() throws {
        var cluster = try cluster(policy: Fixture.policy(blockPeriod: .seconds(5)))
        cluster.clusterUp[Fixture.siteA] = false
        cluster.run(for: .seconds(10))
        cluster.clusterUp[Fixture.siteA] = true
        cluster.run(for: .seconds(60))
        #expect(cluster.election(a)?.state.committed.activeSite == Fixture.siteB, "no automatic failback")

        cluster.command(.switchover(to: Fixture.siteA), at: a)
        cluster.run(for: .seconds(6))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteA)
        #expect(cluster.election(w)?.state.committed.cause == .operatorSwitchover)
        #expect(cluster.servingSites == [Fixture.siteA])
        #expect(cluster.violations.isEmpty)
    }

    @Test func automaticFailbackAfterTheHomeSiteWasHealthyLongEnough() throws {
        let policy = Fixture.policy(failback: .automatic(healthyFor: .seconds(20)), blockPeriod: .seconds(5))
        var cluster = try cluster(policy: policy)
        cluster.clusterUp[Fixture.siteA] = false
        cluster.run(for: .seconds(10))
        #expect(cluster.servingSites == [Fixture.siteB])
        cluster.clusterUp[Fixture.siteA] = true
        cluster.run(for: .seconds(15))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteB, "not healthy for 20 s yet")
        cluster.run(for: .seconds(15))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteA)
        #expect(cluster.election(w)?.state.committed.cause == .automaticFailback)
        #expect(cluster.servingSites == [Fixture.siteA])
        #expect(cluster.violations.isEmpty)
    }

    @Test func operatorSwitchoverMovesAHealthyActiveSite() throws {
        var cluster = try cluster()
        cluster.command(.switchover(to: Fixture.siteB), at: w)
        cluster.run(for: .seconds(6))
        #expect(cluster.election(a)?.state.committed.activeSite == Fixture.siteB)
        #expect(cluster.servingSites == [Fixture.siteB])
        #expect(cluster.violations.isEmpty)
    }

    /// The witness cannot reach dc-b (so dc-b looks down to it, while dc-a still sees it):
    /// a switchover asked at the witness is refused, a forced one goes through vote and commit.
    @Test func operatorSwitchoverToASiteThatLooksDownIsRefusedUnlessForced() throws {
        var cluster = try cluster()
        cluster.cutLink(w, b)
        cluster.run(for: .seconds(3))
        cluster.command(.switchover(to: Fixture.siteB), at: w)
        cluster.run(for: .seconds(6))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteA)

        cluster.command(.failover(to: Fixture.siteB, override: SafetyOverride(ignoreHealth: true)), at: w)
        cluster.run(for: .seconds(6))
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteB)
        #expect(cluster.election(w)?.state.committed.cause == .operatorFailover)
        #expect(cluster.election(b)?.state.committed.activeSite == Fixture.siteB, "dc-b hears it from dc-a")
        #expect(cluster.servingSites == [Fixture.siteB])
        #expect(cluster.violations.isEmpty)
    }

    /// A one-way cut: dc-a still sends but hears nothing. Its lease acknowledgements never
    /// arrive, so it fences itself; the others cannot probe dc-a (probes need both ways) and
    /// fail over to dc-b.
    @Test func activeThatCanSendButNotHearFencesItselfAndTheStandbyTakesOver() throws {
        var cluster = try cluster()
        cluster.cutLink(b, a, bothWays: false)
        cluster.cutLink(w, a, bothWays: false)
        cluster.run(for: .seconds(15))
        #expect(cluster.servingSites == [Fixture.siteB])
        #expect(cluster.election(w)?.state.committed.activeSite == Fixture.siteB)
        let status = try #require(cluster.election(a)?.status(now: cluster.localNow(a)))
        #expect(status.committed.activeSite == Fixture.siteA, "it never heard of the failover")
        guard case .fenced = status.serving else {
            Issue.record("expected fenced, got \(status.serving)")
            return
        }
        #expect(cluster.violations.isEmpty)
    }
}
