import AgentServer
import Foundation
import TestSupport
import Testing

/// Real processes (`switchback broker`, `switchback agent`) on hosts in network namespaces,
/// with links cut by iptables (TESTING.md), clusters blackholed through the brokers' control
/// endpoints and agents killed with SIGKILL. Runs only as root with `ip` and `iptables`.
/// Whole sites failing (issue 5's scenarios) are in `SiteFailureTests.swift`, in this suite.
@Suite("Partitions between agent processes", .serialized, .timeLimit(.minutes(4)), .enabled(if: NetworkLab.shouldRun, "needs root, ip, iptables and curl (the reason is printed)"))
struct PartitionTests {
    @Test("site a cut off from b and the witness: b takes over, a fences itself, never both serving; a follows after healing")
    func isolatedActiveSite() async throws {
        try await SiteLab.with(prefix: "partition") { lab in
            let cut = ContinuousClock.now
            try lab.network.cut("a", from: ["b", "w"])
            var overlaps = 0
            var samples = 0
            let tookOver = await eventually(timeout: .seconds(60)) {
                let a = lab.active("a")
                let b = lab.active("b")
                samples += 1
                if a?.servingHere == true && b?.servingHere == true { overlaps += 1 }
                return b?.activeSite == "dc-b" && b?.servingHere == true && a?.servingHere == false
            }
            let elapsed = ContinuousClock.now - cut
            #expect(tookOver, "dc-b did not take over from the isolated dc-a")
            #expect(overlaps == 0, "both sites answered servingHere in \(overlaps) of \(samples) samples")
            print("partition: dc-a isolated → dc-b serving and dc-a fenced in \(elapsed)")
            // dc-a's own view: still the old configuration, but fenced (no majority for its lease).
            let fenced = lab.status("a")
            #expect(fenced.map { if case .fenced = $0.election.serving { true } else { false } } == true)

            try lab.network.heal("a")
            let rejoined = await eventually(timeout: .seconds(30)) {
                guard let a = lab.active("a") else { return false }
                return a.activeSite == "dc-b" && !a.servingHere
            }
            #expect(rejoined, "dc-a did not adopt dc-b's configuration after healing")
            #expect(lab.active("b")?.servingHere == true)
        }
    }

    @Test("the witness stops hearing from a (one way): nothing changes")
    func asymmetricWitnessCut() async throws {
        try await SiteLab.with(prefix: "partition") { lab in
            try lab.network.cutInbound("w", from: "a")
            let noticed = await eventually(timeout: .seconds(30)) {
                guard let report = lab.status("w") else { return false }
                return !report.election.reachablePeers.contains("dc-a") && report.election.reachablePeers.contains("dc-b")
            }
            #expect(noticed, "the witness still counts dc-a as reachable")
            let a = try #require(lab.active("a"))
            let b = try #require(lab.active("b"))
            #expect(a.epoch == 0 && a.activeSite == "dc-a" && a.servingHere)
            #expect(b.epoch == 0 && !b.servingHere)
        }
    }
}
