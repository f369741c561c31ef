import AgentServer
import Foundation
import TestSupport
import Testing

/// Real processes (`switchback broker`, `switchback agent`) on hosts in network namespaces,
/// with links cut by iptables (TESTING.md). Runs only as root with `ip` and `iptables`.
@Suite("Partitions between agent processes", .serialized, .timeLimit(.minutes(4)), .enabled(if: NetworkLab.isAvailable))
struct PartitionTests {
    struct Site {
        var broker: Process
        var agent: Process
    }

    /// Brokers on a and b, agents on a, b and w, an observer host; dc-a leased.
    func withLab(_ body: (NetworkLab, URL) async throws -> Void) async throws {
        let executable = try switchbackExecutable().path
        try await withTemporaryDirectory(prefix: "partition") { directory in
            let lab = NetworkLab()
            defer { lab.tearDown() }
            try lab.setUp()
            for (name, number) in [("a", 1), ("b", 2), ("w", 3), ("obs", 9)] { try lab.addHost(name, number: number) }
            let ip = lab.hosts
            for name in ["a", "b"] {
                _ = try lab.start(
                    on: name, executable,
                    ["broker", "--listen", "\(ip[name]!):9092", "--data-dir", directory.appendingPathComponent("kafka-\(name)").path],
                    log: directory.appendingPathComponent("broker-\(name).log"))
            }
            for (name, agent) in [("a", "dc-a"), ("b", "dc-b"), ("w", "witness")] {
                let yaml = """
                    site: \(agent)
                    role: \(agent == "witness" ? "witness" : "member")
                    listen: \(ip[name]!):7070
                    data_dir: \(directory.appendingPathComponent("agent-\(name)").path)
                    sites:
                      dc-a: { bootstrap: "\(ip["a"]!):9092", agent: "http://\(ip["a"]!):7070" }
                      dc-b: { bootstrap: "\(ip["b"]!):9092", agent: "http://\(ip["b"]!):7070" }
                    witnesses:
                      witness: { agent: "http://\(ip["w"]!):7070" }
                    detection: { probe_interval: 250ms, down_after: 1s, lease: 2s, probe_timeout: 800ms }
                    failover: { candidate_backoff: 1s }
                    auth: { peer_secret: { env: PEER }, operator_token: { env: TOKEN } }
                    """
                let path = directory.appendingPathComponent("\(agent).yaml")
                try yaml.write(to: path, atomically: true, encoding: .utf8)
                _ = try lab.start(
                    on: name, executable, ["agent", "--config", path.path, "--log-level", "notice"],
                    environment: ["PEER": peerSecret, "TOKEN": operatorToken], log: directory.appendingPathComponent("agent-\(name).log"))
            }
            let leased = await eventually(timeout: .seconds(90)) { active(lab, "a")?.servingHere == true }
            #expect(leased, "dc-a never got its lease")
            guard leased else { return }
            try await body(lab, directory)
        }
    }

    func active(_ lab: NetworkLab, _ host: String) -> ActiveAnswer? {
        guard let address = lab.hosts[host], let data = lab.get(from: "obs", "http://\(address):7070/v1/active") else { return nil }
        return try? decodeJSON(ActiveAnswer.self, data)
    }

    func status(_ lab: NetworkLab, _ host: String) -> AgentStatusReport? {
        guard let address = lab.hosts[host],
            let data = lab.get(from: "obs", "http://\(address):7070/v1/status", bearer: operatorToken)
        else { return nil }
        return try? decodeJSON(AgentStatusReport.self, data)
    }

    @Test("site a cut off from b and the witness: b takes over, a fences itself, never both serving; a follows after healing")
    func isolatedActiveSite() async throws {
        try await withLab { lab, _ in
            let cut = ContinuousClock.now
            try lab.cut("a", from: ["b", "w"])
            var overlaps = 0
            var samples = 0
            let tookOver = await eventually(timeout: .seconds(60)) {
                let a = active(lab, "a")
                let b = active(lab, "b")
                samples += 1
                if a?.servingHere == true && b?.servingHere == true { overlaps += 1 }
                return b?.activeSite == "dc-b" && b?.servingHere == true && a?.servingHere == false
            }
            let elapsed = ContinuousClock.now - cut
            #expect(tookOver, "dc-b did not take over from the isolated dc-a")
            #expect(overlaps == 0, "both sites answered servingHere in \(overlaps) of \(samples) samples")
            print("partition: dc-a isolated → dc-b serving and dc-a fenced in \(elapsed)")
            // dc-a's own view: still the old configuration, but fenced (no majority for its lease).
            let fenced = status(lab, "a")
            #expect(fenced.map { if case .fenced = $0.election.serving { true } else { false } } == true)

            try lab.heal("a")
            let rejoined = await eventually(timeout: .seconds(30)) {
                guard let a = active(lab, "a") else { return false }
                return a.activeSite == "dc-b" && !a.servingHere
            }
            #expect(rejoined, "dc-a did not adopt dc-b's configuration after healing")
            #expect(active(lab, "b")?.servingHere == true)
        }
    }

    @Test("the witness stops hearing from a (one way): nothing changes")
    func asymmetricWitnessCut() async throws {
        try await withLab { lab, _ in
            try lab.cutInbound("w", from: "a")
            let noticed = await eventually(timeout: .seconds(30)) {
                guard let report = status(lab, "w") else { return false }
                return !report.election.reachablePeers.contains("dc-a") && report.election.reachablePeers.contains("dc-b")
            }
            #expect(noticed, "the witness still counts dc-a as reachable")
            let a = try #require(active(lab, "a"))
            let b = try #require(active(lab, "b"))
            #expect(a.epoch == 0 && a.activeSite == "dc-a" && a.servingHere)
            #expect(b.epoch == 0 && !b.servingHere)
        }
    }
}
