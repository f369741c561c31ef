import AgentServer
import Consensus
import Foundation
import Sites
import TestSupport

/// Three agents (dc-a, dc-b, witness) and two brokers as real processes on hosts in network
/// namespaces (hosts a, b, w; the observer host obs); at the start dc-a is leased and every
/// agent hears every other and sees both clusters up. Shared by the partition tests.
final class SiteLab: @unchecked Sendable {
    // @unchecked: used only by the test task that owns it.
    static let agents = [("a", "dc-a"), ("b", "dc-b"), ("w", "witness")]
    /// The agents' `detection.down_after`: a cluster without a good probe this long is down.
    static let downAfter = Duration.seconds(1)
    /// The agents' `detection.lease`.
    static let lease = Duration.seconds(2)
    /// How long a test watches for a change that must not happen (a failover, a failback, a
    /// new epoch). A wrongful failover here would take at most down_after (1 s) + the
    /// candidate back-off (≤ 1 s) + the wait for the old lease (≤ 2 s) + a commit round trip,
    /// about 4 s (the isolated-site test measures about 2 s); four leases cover it twice over.
    static let quietWindow = lease * 4

    let network: NetworkLab
    let directory: URL
    private let executable: String
    /// The running agent process per host; replaced when an agent is restarted.
    private(set) var agentProcesses: [String: Process] = [:]
    private var startCounts: [String: Int] = [:]

    private init(network: NetworkLab, directory: URL, executable: String) {
        self.network = network
        self.directory = directory
        self.executable = executable
    }

    /// Runs `body` with a lab whose dc-a holds its lease and whose agents all hear each other;
    /// removes everything afterwards.
    /// `failover` is the agents' `failover:` section; `mirror` their `mirror:` section (default:
    /// none, so `flows: auto` with the prefix policy).
    static func with(
        prefix: String, failover: String = "{ candidate_backoff: 1s }", mirror: String? = nil, _ body: (SiteLab) async throws -> Void
    ) async throws {
        try NetworkLab.requireAvailable()
        let executable = try switchbackExecutable().path
        try await withTemporaryDirectory(prefix: prefix) { directory in
            let network = NetworkLab()
            let lab = SiteLab(network: network, directory: directory, executable: executable)
            defer {
                // A paused agent must be able to act on the SIGTERM of the teardown.
                for process in lab.agentProcesses.values where process.isRunning { kill(process.processIdentifier, SIGCONT) }
                network.tearDown()
            }
            try network.setUp()
            for (name, number) in [("a", 1), ("b", 2), ("w", 3), ("obs", 9)] { try network.addHost(name, number: number) }
            for name in ["a", "b"] {
                let address = network.hosts[name] ?? ""
                _ = try network.start(
                    on: name, executable,
                    [
                        "broker", "--listen", "\(address):9092", "--data-dir", directory.appendingPathComponent("kafka-\(name)").path,
                        "--control", "\(address):9093",
                    ],
                    log: directory.appendingPathComponent("broker-\(name).log"))
            }
            for (host, agent) in agents {
                try lab.writeConfiguration(host: host, agent: agent, failover: failover, mirror: mirror)
                try lab.startAgent(host)
            }
            let leased = await eventually(timeout: .seconds(90)) { lab.active("a")?.servingHere == true }
            guard leased else { throw AgentTestFailure("dc-a never got its lease; logs in \(directory.path)") }
            // Two voters suffice for the lease, so the third may still be warming up its probes;
            // a test that watches an agent drop out must see it counted in first.
            let whole = await eventually(timeout: .seconds(60)) { lab.isWhole() }
            guard whole else { throw AgentTestFailure("the agents never all heard each other and saw every cluster up; logs in \(directory.path)") }
            try await body(lab)
        }
    }

    func configurationFile(_ host: String) -> URL { directory.appendingPathComponent("agent-\(host).yaml") }

    /// The agent's data directory (its `audit.jsonl` is in there).
    func dataDirectory(_ host: String) -> URL { directory.appendingPathComponent("agent-\(host)") }

    private func writeConfiguration(host: String, agent: String, failover: String, mirror: String?) throws {
        let ip = network.hosts
        let yaml = """
            site: \(agent)
            role: \(agent == "witness" ? "witness" : "member")
            listen: \(ip[host] ?? ""):7070
            data_dir: \(dataDirectory(host).path)
            sites:
              dc-a: { bootstrap: "\(ip["a"] ?? ""):9092", agent: "http://\(ip["a"] ?? ""):7070" }
              dc-b: { bootstrap: "\(ip["b"] ?? ""):9092", agent: "http://\(ip["b"] ?? ""):7070" }
            witnesses:
              witness: { agent: "http://\(ip["w"] ?? ""):7070" }
            detection: { probe_interval: 250ms, down_after: \(Self.downAfter.components.seconds)s, lease: \(Self.lease.components.seconds)s, probe_timeout: 800ms }
            failover: \(failover)
            auth: { peer_secret: { env: PEER }, operator_token: { env: TOKEN } }
            """ + (mirror.map { "\nmirror: \($0)\n" } ?? "")
        try yaml.write(to: configurationFile(host), atomically: true, encoding: .utf8)
    }

    /// Starts (or restarts, after a crash) the agent on `host` from its configuration and data
    /// directory; each start logs to a file of its own (agent-a.log, agent-a.1.log, …).
    func startAgent(_ host: String) throws {
        let starts = startCounts[host, default: 0]
        startCounts[host] = starts + 1
        let process = try network.start(
            on: host, executable, ["agent", "--config", configurationFile(host).path, "--log-level", "notice"],
            environment: ["PEER": peerSecret, "TOKEN": operatorToken],
            log: directory.appendingPathComponent(starts == 0 ? "agent-\(host).log" : "agent-\(host).\(starts).log"))
        agentProcesses[host] = process
    }

    func active(_ host: String) -> ActiveAnswer? {
        guard let address = network.hosts[host], let data = network.get(from: "obs", "http://\(address):7070/v1/active") else { return nil }
        return try? decodeJSON(ActiveAnswer.self, data)
    }

    func status(_ host: String) -> AgentStatusReport? {
        guard let address = network.hosts[host],
            let data = network.get(from: "obs", "http://\(address):7070/v1/status", bearer: operatorToken)
        else { return nil }
        return try? decodeJSON(AgentStatusReport.self, data)
    }

    /// Whether `host`'s agent counts `peer` among the peers whose heartbeats are fresh;
    /// `nil` when the agent does not answer.
    func reaches(_ host: String, _ peer: String) -> Bool? {
        status(host).map { $0.election.reachablePeers.contains(AgentID(peer)) }
    }

    /// How `host`'s agent sees `site`; `nil` when the agent does not answer.
    func view(_ host: String, of site: String) -> ElectionStatus.SiteView? {
        status(host)?.election.sites.first { $0.site.rawValue == site }
    }

    /// Whether every agent answers, hears every other agent and sees every cluster up: the
    /// lab is whole again after a fault was healed.
    func isWhole() -> Bool {
        Self.agents.allSatisfy { host, agent in
            guard let election = status(host)?.election else { return false }
            let others = Self.agents.map { AgentID($0.1) }.filter { $0 != AgentID(agent) }
            return others.allSatisfy(election.reachablePeers.contains) && election.sites.allSatisfy { !$0.subjectivelyDown }
        }
    }

    /// Polls every agent's sidecar endpoint from the observer host until the recorder is
    /// stopped (see `SidecarRecorder`).
    func recordSidecars() throws -> SidecarRecorder {
        let recorder = SidecarRecorder(namespace: network.namespace("obs"))
        for (host, agent) in Self.agents {
            try recorder.record(agent: agent, host: network.hosts[host] ?? "", port: 7070)
        }
        return recorder
    }

    /// POSTs to the control endpoint of `host`'s broker (`/faults/blackhole`, `/faults/heal`).
    func brokerControl(_ host: String, _ path: String) throws {
        guard let address = network.hosts[host] else { return }
        try NetworkLab.run(
            "/usr/sbin/ip", ["netns", "exec", network.namespace("obs"), "/usr/bin/curl", "-s", "-f", "-m", "3", "-X", "POST", "http://\(address):9093\(path)"])
    }
}
