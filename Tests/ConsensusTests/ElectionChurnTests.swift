import Consensus
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
}
