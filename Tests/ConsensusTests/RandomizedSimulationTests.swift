import Consensus
import Foundation
import Sites
import Testing

/// Seeded random schedules of partitions, heals, delays, crash-restarts, cluster failures and
/// operator commands over three agents; the cluster's checker asserts safety after every event.
@Suite("Randomized election simulation")
struct RandomizedSimulationTests {
    enum Fault: CaseIterable {
        case cutBothWays, cutOneWay, healLink, healAll, crash, restart, clusterDown, clusterUp,
            switchover, forcedFailover, acknowledge, isolate
    }

    struct Outcome: Sendable {
        var faults = 0
        var failovers = 0
        var otherChanges = 0
        var crashes = 0
        var splitBrainIntervals = 0
        var violations: [String] = []
        var servingAtEnd: [SiteID] = []
        /// The highest epoch any agent reached: every election, won or not, uses one.
        var epochsUsed: UInt64 = 0

        /// Epochs used per committed change: 1 is ideal; more means elections churned.
        var epochsPerChange: String {
            let changes = failovers + otherChanges
            guard changes > 0 else { return "n/a" }
            return String(format: "%.2f", Double(epochsUsed) / Double(changes))
        }
    }

    /// How many schedules to run: `SWITCHBACK_SIM_SCHEDULES` overrides the default (run more
    /// locally when changing the election; the default keeps `swift test` quick).
    static func scheduleCount(default count: UInt64) -> UInt64 {
        guard let text = ProcessInfo.processInfo.environment["SWITCHBACK_SIM_SCHEDULES"], let value = UInt64(text), value > 0
        else { return count }
        return value
    }

    /// One schedule: `steps` random faults 0.5–4 s apart, then everything healed for 25 s.
    /// Throughout, 2 % of messages are lost and 3 % are delayed by up to 3 s (so they also
    /// arrive out of order).
    /// Agent clocks drift up to ±1 % (the 100 ms margin on a 2 s lease covers 5 %).
    static func runSchedule(
        seed: UInt64, voters: Voters? = nil, steps: Int = 20,
        policy: ElectionPolicy = Fixture.policy(blockPeriod: .seconds(8)), clockDrift: Double = 0.01
    ) throws -> Outcome {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9)
        var cluster = try SimulatedCluster(
            voters: voters ?? Fixture.voters(), policy: policy, seed: seed, clockDrift: clockDrift)
        cluster.keepRecords = false
        cluster.tickInterval = .milliseconds(250)
        cluster.longDelayProbability = 0.03
        cluster.dropProbability = 0.02
        cluster.longDelay = .seconds(3)
        let agents = cluster.voters.all
        let sites = cluster.voters.sites
        var outcome = Outcome()
        cluster.run(for: .seconds(2))
        for _ in 0..<steps {
            let one = agents[Int(rng.next() % UInt64(agents.count))]
            let other = agents.filter { $0 != one }[Int(rng.next() % UInt64(agents.count - 1))]
            let site = sites[Int(rng.next() % UInt64(sites.count))]
            switch Fault.allCases[Int(rng.next() % UInt64(Fault.allCases.count))] {
            case .cutBothWays: cluster.cutLink(one, other)
            case .cutOneWay: cluster.cutLink(one, other, bothWays: false)
            case .healLink: cluster.healLink(one, other)
            case .healAll: cluster.healAll()
            case .crash:
                if cluster.election(one) != nil { outcome.crashes += 1 }
                cluster.crash(one)
            case .restart: if cluster.election(one) == nil { try cluster.start(one) }
            case .clusterDown: cluster.clusterUp[site] = false
            case .clusterUp: cluster.clusterUp[site] = true
            case .switchover: cluster.command(.switchover(to: site), at: one)
            case .forcedFailover: cluster.command(.failover(to: site, override: SafetyOverride(ignoreHealth: true)), at: one)
            case .acknowledge: cluster.command(.acknowledge, at: one)
            case .isolate: cluster.isolate(one)
            }
            outcome.faults += 1
            cluster.run(for: .milliseconds(500 + Int64(rng.next() % 3500)))
        }
        // Heal everything; the cluster must settle on one serving site.
        cluster.healAll()
        for site in sites { cluster.clusterUp[site] = true }
        for agent in agents where cluster.election(agent) == nil { try cluster.start(agent) }
        cluster.run(for: .seconds(25))
        let changes = cluster.committedConfigs.values.filter { $0.epoch > .initial }
        outcome.failovers = changes.filter { $0.cause == .automaticFailover }.count
        outcome.otherChanges = changes.count - outcome.failovers
        outcome.splitBrainIntervals = cluster.splitBrainIntervals
        outcome.violations = cluster.violations
        outcome.servingAtEnd = cluster.servingSites
        outcome.epochsUsed = agents.compactMap { cluster.election($0)?.state.currentEpoch.rawValue }.max() ?? 0
        return outcome
    }

    static func runSchedules(_ seeds: ClosedRange<UInt64>, voters: Voters? = nil) async throws -> (Outcome, [UInt64]) {
        // Schedules are independent: run them on every core.
        let outcomes = try await withThrowingTaskGroup(of: (UInt64, Outcome).self) { group in
            for seed in seeds {
                group.addTask { (seed, try Self.runSchedule(seed: seed, voters: voters)) }
            }
            var all: [(UInt64, Outcome)] = []
            for try await result in group { all.append(result) }
            return all.sorted { $0.0 < $1.0 }
        }
        var total = Outcome()
        var unsettled: [UInt64] = []
        for (seed, outcome) in outcomes {
            total.faults += outcome.faults
            total.failovers += outcome.failovers
            total.otherChanges += outcome.otherChanges
            total.crashes += outcome.crashes
            total.splitBrainIntervals += outcome.splitBrainIntervals
            total.epochsUsed += outcome.epochsUsed
            if !outcome.violations.isEmpty {
                Issue.record("seed \(seed): \(outcome.violations.prefix(3))")
            }
            if outcome.servingAtEnd.count != 1 { unsettled.append(seed) }
        }
        return (total, unsettled)
    }

    @Test func twoHundredSeededSchedulesKeepOneActiveSite() async throws {
        let count = Self.scheduleCount(default: 200)
        let (total, unsettled) = try await Self.runSchedules(1...count)
        print(
            "election simulation (2 sites + witness): schedules=\(count) faults=\(total.faults) crash-restarts=\(total.crashes) automatic-failovers=\(total.failovers) other-committed-changes=\(total.otherChanges) epochs-used=\(total.epochsUsed) epochs-per-committed-change=\(total.epochsPerChange) split-brain-intervals=\(total.splitBrainIntervals) unsettled-after-heal=\(unsettled.count)"
        )
        #expect(total.splitBrainIntervals == 0)
        #expect(unsettled.isEmpty, "seeds without exactly one serving site 25 s after healing: \(unsettled)")
        #expect(total.failovers > 50, "the schedules must actually exercise failovers")
        #expect(total.crashes > 50, "and crash-restarts")
    }

    /// Three sites and two witnesses: several standbys to choose from, majorities of three.
    @Test func fiftySchedulesWithThreeSitesAndTwoWitnesses() async throws {
        let voters = try Voters(
            members: [Fixture.siteA: Fixture.agentA, Fixture.siteB: Fixture.agentB, "dc-c": "agent-c"],
            witnesses: [Fixture.witness, "witness-2"])
        let count = Self.scheduleCount(default: 200) / 4
        let (total, unsettled) = try await Self.runSchedules(1...max(count, 1), voters: voters)
        print(
            "election simulation (3 sites + 2 witnesses): schedules=\(count) faults=\(total.faults) crash-restarts=\(total.crashes) automatic-failovers=\(total.failovers) other-committed-changes=\(total.otherChanges) epochs-used=\(total.epochsUsed) epochs-per-committed-change=\(total.epochsPerChange) split-brain-intervals=\(total.splitBrainIntervals) unsettled-after-heal=\(unsettled.count)"
        )
        #expect(total.splitBrainIntervals == 0)
        #expect(unsettled.isEmpty, "seeds without exactly one serving site 25 s after healing: \(unsettled)")
        #expect(total.failovers > 10)
    }
}
