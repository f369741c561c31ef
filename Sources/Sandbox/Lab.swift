import Foundation
import KafkaClient
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Two LocalKafka clusters (dc-a, dc-b) and three agents (dc-a, dc-b, witness) as child
/// processes of this one, joined by cuttable ``PeerLink``s, plus the faults the sandbox can
/// inject into them.
public final class Lab: Sendable {
    public let layout: LabLayout
    public let http: LabHTTP
    /// Each site's `host:port` for Kafka clients.
    public let bootstrap: [String: String]
    /// Each site's broker control endpoint (`http://127.0.0.1:PORT`).
    public let control: [String: String]
    private let executable: String
    private let brokers: [String: ChildProcess]
    private let links: [PeerLink]
    private let agents = Mutex<[String: ChildProcess]>([:])
    private let faults = Mutex<Set<LabFault>>([])

    private init(
        layout: LabLayout, http: LabHTTP, executable: String, brokers: [String: ChildProcess], bootstrap: [String: String],
        control: [String: String], links: [PeerLink]
    ) {
        self.layout = layout
        self.http = http
        self.executable = executable
        self.brokers = brokers
        self.bootstrap = bootstrap
        self.control = control
        self.links = links
    }

    /// Starts the brokers, the links and the agents under `layout.directory`, and waits until
    /// dc-a serves as active. On any failure everything started so far is stopped again.
    /// - Parameter progress: one line per stage, for standard error.
    public static func start(
        layout: LabLayout, executable: String, http: LabHTTP, progress: @Sendable (String) -> Void
    ) async throws -> Lab {
        var layout = layout
        var brokers: [String: ChildProcess] = [:]
        var links: [PeerLink] = []
        try FileManager.default.createDirectory(at: layout.directory, withIntermediateDirectories: true)
        do {
            var bootstrap: [String: String] = [:]
            var control: [String: String] = [:]
            for site in LabLayout.sites {
                let log = layout.log("broker-\(site)")
                let broker = try await Spawner.shared.start(
                    name: "broker \(site)", executable: executable,
                    arguments: [
                        "broker", "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--data-dir", layout.brokerDirectory(site).path,
                        "--partitions", String(Self.partitions), "--fsync", "interval", "--log-level", "warning",
                    ],
                    log: log)
                brokers[site] = broker
                let (kafka, endpoint) = try await Self.readyLine(of: broker, within: .seconds(30))
                bootstrap[site] = kafka
                control[site] = endpoint
                progress("broker \(site) serving on \(kafka)")
                try await Self.createWorkloadTopic(at: kafka)
            }
            progress("topic \(LabLayout.topic) created at \(LabLayout.sites.joined(separator: " and ")) (\(Self.partitions) partitions)")
            // The agents' ports were free when picked and released; the brokers may have been
            // given one since (the links below avoid them).
            let brokerPorts = Set(bootstrap.values.compactMap { Int($0.split(separator: ":").last ?? "") }
                + control.values.compactMap { Int($0.split(separator: ":").last ?? "") })
            for agent in LabLayout.agents where brokerPorts.contains(layout.agentPorts[agent] ?? 0) {
                layout.agentPorts[agent] = try freeLoopbackPort()
            }
            for from in LabLayout.agents {
                for to in LabLayout.agents where to != from {
                    var link = try await PeerLink.open(from: from, to: to, targetPort: layout.agentPorts[to] ?? 0)
                    while layout.agentPorts.values.contains(link.port) {
                        let taken = link
                        link = try await PeerLink.open(from: from, to: to, targetPort: layout.agentPorts[to] ?? 0)
                        await taken.close()
                    }
                    links.append(link)
                }
            }
            try layout.writeConfigurations(bootstrap: bootstrap) { from, to in
                links.first { $0.from == from && $0.to == to }?.port ?? 0
            }
            let lab = Lab(
                layout: layout, http: http, executable: executable, brokers: brokers, bootstrap: bootstrap, control: control,
                links: links)
            do {
                for agent in LabLayout.agents { try await lab.startAgent(agent) }
                progress("agents dc-a, dc-b, witness started; waiting for dc-a to hold its lease")
                try await lab.waitUntilServing("dc-a", within: .seconds(90))
                progress("dc-a serves as active; status pages: " + LabLayout.agents.map { "\(layout.agentURL($0))/" }.joined(separator: " "))
            } catch {
                await lab.stop()
                throw error
            }
            return lab
        } catch {
            for broker in brokers.values { await broker.stop(grace: .seconds(5)) }
            for link in links { await link.close() }
            throw error
        }
    }

    /// Partitions of every topic in the lab (the brokers' default for topics made on first use).
    static let partitions = 3

    /// Creates the workload's topic before the agents start, as an application's topics exist
    /// at every site before disaster recovery is set up. Left to the producer's first send, it
    /// would appear after the flows had looked for topics, and they look again only every 30 s:
    /// the steady state before a fault would then mirror nothing.
    static func createWorkloadTopic(at bootstrap: String) async throws {
        var logger = Logger(label: "switchback.sandbox.topics")
        logger.logLevel = .critical
        do {
            let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [bootstrap], logLevel: .error), logger: logger)
            let results = try await admin.createTopics([NewTopic(name: TopicName(LabLayout.topic), partitions: Int32(partitions))])
            for (_, result) in results {
                if case .failure(let error) = result, error.code != .topicAlreadyExists { throw error }
            }
        } catch {
            throw SandboxError("cannot create the topic \(LabLayout.topic) at \(bootstrap): \(error)")
        }
    }

    /// Parses `LocalKafka serving on HOST:PORT (control on http://HOST:PORT)` from the log.
    static func readyLine(of broker: ChildProcess, within limit: Duration) async throws -> (String, String) {
        let deadline = ContinuousClock.now + limit
        let prefix = "LocalKafka serving on "
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: broker.log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                let words = line.dropFirst(prefix.count).split(separator: " ")
                if words.count >= 4, words[1] == "(control", words[2] == "on" {
                    return (String(words[0]), String(words[3].dropLast()))
                }
                throw SandboxError("\(broker.name) printed an unexpected ready line: \(line)")
            }
            guard broker.isRunning else {
                throw SandboxError("\(broker.name) exited with status \(broker.exitStatus ?? -1): \(broker.logTail())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SandboxError("\(broker.name) did not report ready within \(limit); its log: \(broker.log.path)")
    }

    /// Starts (or restarts) an agent from its configuration and data directory.
    func startAgent(_ agent: String) async throws {
        let process = try await Spawner.shared.start(
            name: "agent \(agent)", executable: executable,
            arguments: ["agent", "--config", layout.configurationFile(agent).path, "--log-level", "notice"],
            log: layout.log("agent-\(agent)"))
        agents.withLock { $0[agent] = process }
    }

    /// Waits until `site`'s agent answers `/v1/health/active` with 200.
    public func waitUntilServing(_ site: String, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await http.get(layout.agentURL(site) + "/v1/health/active")?.status == 200 { return }
            for (name, process) in agents.withLock({ $0 }) where !process.isRunning {
                throw SandboxError("agent \(name) exited with status \(process.exitStatus ?? -1): \(process.logTail())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SandboxError("\(site) did not serve as active within \(limit); logs in \(layout.directory.path)")
    }

    /// Every child process still running, and what it is.
    public var children: [ChildProcess] { Array(brokers.values) + agents.withLock { Array($0.values) } }

    /// The faults in force now (for the dashboard and the report).
    public var activeFaults: Set<LabFault> { faults.withLock { $0 } }

    // MARK: - Faults

    /// Makes `site`'s cluster vanish: its broker drops every connection and answers nothing.
    public func blackhole(_ site: String) async throws {
        try await controlCall(site, "/faults/blackhole")
        faults.withLock { _ = $0.insert(.blackhole(site)) }
    }

    /// Removes every fault of `site`'s broker.
    public func heal(_ site: String) async throws {
        try await controlCall(site, "/faults/heal")
        faults.withLock { _ = $0.remove(.blackhole(site)) }
    }

    private func controlCall(_ site: String, _ path: String) async throws {
        guard let base = control[site] else { throw SandboxError("no site \(site); sites are \(LabLayout.sites.joined(separator: ", "))") }
        guard let answer = await http.post(base + path), answer.status == 200 else {
            throw SandboxError("the control endpoint of \(site)'s broker did not accept \(path)")
        }
    }

    /// Freezes `agent`'s process (SIGSTOP): it neither answers nor renews nor votes.
    public func pause(_ agent: String) throws {
        try process(of: agent).send(SIGSTOP)
        faults.withLock { _ = $0.insert(.paused(agent)) }
    }

    /// Lets a paused agent run again (SIGCONT).
    public func resume(_ agent: String) throws {
        try process(of: agent).send(SIGCONT)
        faults.withLock { _ = $0.remove(.paused(agent)) }
    }

    /// Cuts every link into and out of `agent`: it hears no peer and no peer hears it, while
    /// its cluster and its sidecar stay reachable to its applications.
    public func partition(_ agent: String) {
        for link in links where link.from == agent || link.to == agent { link.cut() }
        faults.withLock { _ = $0.insert(.partitioned(agent)) }
    }

    /// Restores the links of a partitioned agent.
    public func heal(partitionOf agent: String) {
        for link in links where link.from == agent || link.to == agent { link.heal() }
        faults.withLock { _ = $0.remove(.partitioned(agent)) }
    }

    /// Removes every fault (blackholes, pauses, partitions).
    public func healAll() async throws {
        for fault in activeFaults {
            switch fault {
            case .blackhole(let site): try await heal(site)
            case .paused(let agent): try resume(agent)
            case .partitioned(let agent): heal(partitionOf: agent)
            }
        }
    }

    private func process(of agent: String) throws -> ChildProcess {
        guard let process = agents.withLock({ $0[agent] }) else {
            throw SandboxError("no agent \(agent); agents are \(LabLayout.agents.joined(separator: ", "))")
        }
        return process
    }

    /// A planned switchover to `site` run by `agent` (any agent): the `planned-switchover`
    /// runbook through its operator API (`POST /v1/runbooks/planned-switchover/run`, answered
    /// yes), followed until it ends. Applications that follow the sidecar see `switching`, the
    /// flow drains, the groups are translated exactly, then the new site serves: nothing lost,
    /// nothing delivered twice.
    /// - Throws: when the agent refuses the run (another runs: the error names it) or the run
    ///   does not succeed within `limit` (its result or last step is in the error).
    public func switchover(to site: String, via agent: String, limit: Duration = .seconds(180)) async throws {
        let base = layout.agentURL(agent)
        guard let active = await http.get(base + "/v1/active", timeout: .seconds(5)), active.status == 200,
            let from = try? JSONDecoder().decode(PlannedMove.Active.self, from: active.body).activeSite
        else { throw SandboxError("agent \(agent) did not say which site is active") }
        guard from != site else { throw SandboxError("\(site) is already the active site") }
        let body = try JSONEncoder().encode(PlannedMove.Request(params: ["from": from, "to": site], yes: true, by: "sandbox"))
        guard let answer = await http.post(base + "/v1/runbooks/planned-switchover/run", bearer: layout.operatorToken, json: body, timeout: .seconds(15))
        else { throw SandboxError("agent \(agent) did not answer the planned switchover request") }
        guard (200..<300).contains(answer.status), let started = try? JSONDecoder().decode(PlannedMove.Reply.self, from: answer.body).run else {
            throw SandboxError("agent \(agent) refused the planned switchover to \(site) (\(answer.status)): \(String(decoding: answer.body.prefix(500), as: UTF8.self))")
        }
        let deadline = ContinuousClock.now + limit
        var last = started
        while ContinuousClock.now < deadline {
            if let reply = await http.get(base + "/v1/runbooks/status", bearer: layout.operatorToken, timeout: .seconds(5)), reply.status == 200,
                let run = try? JSONDecoder().decode(PlannedMove.Reply.self, from: reply.body).run, run.runID == started.runID
            {
                last = run
                if let result = run.result {
                    guard result.status == "succeeded" else {
                        throw SandboxError("planned switchover \(from) -> \(site) \(result.status) at step \(result.step ?? "-"): \(result.summary)")
                    }
                    return
                }
                if run.state == "stalled" || run.state == "waiting" {
                    throw SandboxError("planned switchover \(from) -> \(site) is \(run.state) at step \(run.currentStep ?? "-")")
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SandboxError("planned switchover \(from) -> \(site) did not finish within \(limit) (at step \(last.currentStep ?? "-"))")
    }

    /// Starts a runbook on `agent` through its operator API (`POST /v1/runbooks/NAME/run`).
    /// - Throws: when the agent has no runbook API (agents before the runbook engine answer 404).
    public func runRunbook(_ name: String, via agent: String) async throws {
        guard let answer = await http.post(
            layout.agentURL(agent) + "/v1/runbooks/\(name)/run", bearer: layout.operatorToken, json: Data("{}".utf8), timeout: .seconds(15))
        else { throw SandboxError("agent \(agent) did not answer the runbook request") }
        guard (200..<300).contains(answer.status) else {
            let reason = answer.status == 404 ? "these agents have no runbook API yet" : String(decoding: answer.body.prefix(500), as: UTF8.self)
            throw SandboxError("runbook \(name) was not started on \(agent) (\(answer.status)): \(reason)")
        }
    }

    // MARK: - Stopping

    /// Stops the agents, then the brokers (SIGTERM, then SIGKILL after a grace period each),
    /// and closes the links. Safe to call twice.
    public func stop(grace: Duration = .seconds(10)) async {
        let running = agents.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for process in running { group.addTask { await process.stop(grace: grace) } }
        }
        await withTaskGroup(of: Void.self) { group in
            for process in brokers.values { group.addTask { await process.stop(grace: grace) } }
        }
        for link in links { await link.close() }
    }

    /// Kills every child at once (the second Ctrl-C).
    public func kill() {
        for process in children { process.kill() }
    }
}

/// A fault the sandbox has injected and not yet healed.
public enum LabFault: Hashable, Sendable, CustomStringConvertible {
    case blackhole(String)
    case paused(String)
    case partitioned(String)

    public var description: String {
        switch self {
        case .blackhole(let site): "\(site) cluster blackholed"
        case .paused(let agent): "agent \(agent) paused"
        case .partitioned(let agent): "agent \(agent) partitioned"
        }
    }
}

/// The parts of the agent's answers a planned switchover reads.
private enum PlannedMove {
    struct Active: Decodable { var activeSite: String }
    struct Request: Encodable {
        var params: [String: String]
        var yes: Bool
        var by: String
    }
    struct Reply: Decodable { var run: Run? }
    struct Run: Decodable {
        var runID: String
        var state: String
        var currentStep: String?
        var result: Outcome?
    }
    struct Outcome: Decodable {
        var status: String
        var summary: String
        var step: String?
    }
}
