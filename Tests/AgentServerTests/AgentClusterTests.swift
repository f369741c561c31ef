import AgentServer
import AsyncHTTPClient
import Foundation
import LocalKafka
import Logging
import ServiceLifecycle
import Sites
import SwitchbackConfiguration
import TestSupport
import Testing

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Three real agents (dc-a, dc-b, witness) in this process, each with its own data directory
/// and HTTP port, probing two LocalKafka brokers over TCP and talking over loopback HTTP.
struct AgentTrio {
    var agents: [String: Agent] = [:]
    var groups: [String: ServiceGroup] = [:]
    var tasks: [String: Task<Void, any Error>] = [:]
    var urls: [String: String] = [:]

    /// One agent's configuration text, given its name, role, port, data directory and every
    /// agent's port.
    typealias ConfigurationText = (_ name: String, _ role: String, _ port: Int, _ dataDir: String, _ ports: [String: Int]) -> String

    /// Starts dc-a, dc-b and the witness on free loopback ports beside `brokerA` and `brokerB`;
    /// `yaml` writes each one's configuration (plain HTTP by default), `scheme` is its URLs'.
    static func start(
        brokerA: LocalKafkaBroker, brokerB: LocalKafkaBroker, directory: URL, scheme: String = "http",
        yaml: ConfigurationText? = nil
    ) throws -> AgentTrio {
        let names = ["dc-a", "dc-b", "witness"]
        var ports: [String: Int] = [:]
        for name in names { ports[name] = try freeLoopbackPort() }
        let text: ConfigurationText = yaml ?? { name, role, port, dataDir, ports in
            agentYAML(
                name: name, role: role, port: port, dataDir: dataDir,
                bootstrapA: brokerA.bootstrapServers, bootstrapB: brokerB.bootstrapServers, ports: ports)
        }
        var trio = AgentTrio()
        for name in names {
            let port = try #require(ports[name])
            let configuration = try AgentConfiguration.parse(
                yaml: text(name, name == "witness" ? "witness" : "member", port, directory.appendingPathComponent(name).path, ports),
                secrets: secrets)
            var logger = Logger(label: "test.agent.\(name)")
            logger.logLevel = .warning
            let agent = Agent(configuration: configuration, logger: logger)
            let group = ServiceGroup(services: [agent], logger: logger)
            trio.agents[name] = agent
            trio.groups[name] = group
            trio.tasks[name] = Task { try await group.run() }
            trio.urls[name] = "\(scheme)://127.0.0.1:\(port)"
        }
        return trio
    }

    /// Stops `name` gracefully; an agent that does not shut down cleanly (its service group
    /// throws: the HTTP server's drain cut short, a delivery loop failing) fails the test.
    func stop(_ name: String) async {
        await groups[name]?.triggerGracefulShutdown()
        do {
            try await tasks[name]?.value
        } catch {
            Issue.record("agent \(name) did not shut down cleanly: \(error)")
        }
    }

    func stopAll() async {
        for name in groups.keys { await stop(name) }
    }

    func active(_ name: String, client: HTTPClient) async -> ActiveAnswer? {
        guard let url = urls[name], let reply = try? await http(client, .GET, url + "/v1/active", timeout: .seconds(5)), reply.status == 200 else { return nil }
        return try? decodeJSON(ActiveAnswer.self, reply.body)
    }
}

/// Runs `body` with two brokers and three agents, stopping everything afterwards.
func withTrio(_ body: (AgentTrio, LocalKafkaBroker, LocalKafkaBroker, HTTPClient) async throws -> Void) async throws {
    try await withLocalKafka(control: true) { brokerA in
        try await withLocalKafka(control: true) { brokerB in
            try await withTemporaryDirectory(prefix: "agent-trio") { directory in
                let trio = try AgentTrio.start(brokerA: brokerA, brokerB: brokerB, directory: directory)
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                do {
                    try await body(trio, brokerA, brokerB, client)
                } catch {
                    await trio.stopAll()
                    try? await client.shutdown()
                    throw error
                }
                await trio.stopAll()
                try await client.shutdown()
            }
        }
    }
}

@Suite("Agents with real clusters", .serialized, .timeLimit(.minutes(3)))
struct AgentClusterTests {
    @Test("the active cluster blackholed: the standby becomes active, as the sidecar API shows")
    func failoverOnBlackhole() async throws {
        try await withTrio { trio, brokerA, _, client in
            // dc-a starts active and gets its lease from the majority.
            let leased = await eventually(timeout: .seconds(60)) { await trio.active("dc-a", client: client)?.servingHere == true }
            #expect(leased, "dc-a never got a lease")
            guard leased else { return }

            let fault = ContinuousClock.now
            brokerA.faults.inject(.blackhole)
            let failedOver = await eventually(timeout: .seconds(60)) {
                guard let answer = await trio.active("dc-b", client: client) else { return false }
                return answer.activeSite == "dc-b" && answer.servingHere
            }
            let elapsed = ContinuousClock.now - fault
            #expect(failedOver, "dc-b never became active")
            if ProcessInfo.processInfo.environment["SWITCHBACK_TEST_AUDIT"] != nil {
                var all: [AuditEntry] = []
                for agent in trio.agents.values { all += (try? AuditLog.read(path: agent.configuration.dataDirectory + "/audit.jsonl")) ?? [] }
                let origin = Date().addingTimeInterval(-elapsed.seconds)
                for entry in all.sorted(by: { $0.time < $1.time }) where entry.time > origin.addingTimeInterval(-3) {
                    print(String(format: "audit %+.3f %@ %@ %@", entry.time.timeIntervalSince(origin), entry.agent, entry.kind, String(entry.message.prefix(150))))
                }
            }
            print("failover: fault → dc-b serving active in \(elapsed) (probe 250ms, down_after 1s, lease 2s)")

            let b = try #require(await trio.active("dc-b", client: client))
            #expect(b.epoch >= 1)
            #expect(b.bootstrapServers == [trio.agents["dc-b"]!.configuration.site(SiteID("dc-b"))!.bootstrapServers[0]])
            // The old active site stops serving; every agent agrees on dc-b.
            #expect(await eventually { await trio.active("dc-a", client: client)?.servingHere == false })
            #expect(await eventually { await trio.active("dc-a", client: client)?.activeSite == "dc-b" })
            #expect(await eventually { await trio.active("witness", client: client)?.activeSite == "dc-b" })

            // The audit trail on disk: the probe transition, the votes and the commit.
            let audit = try AuditLog.read(path: trio.agents["dc-b"]!.configuration.dataDirectory + "/audit.jsonl")
            #expect(audit.contains { $0.kind == "probe" && $0.site == "dc-a" && $0.healthy == false })
            #expect(audit.contains { $0.kind == "committed" && $0.epoch == b.epoch })
            #expect(audit.contains { $0.kind == "leaseAcquired" && $0.epoch == b.epoch })
            #expect(audit.contains { $0.kind == "candidacy" || $0.kind == "voteGranted" })
        }
    }

    @Test("the witness stopped: nothing changes, dc-a keeps serving with dc-b's acknowledgements")
    func witnessLossChangesNothing() async throws {
        try await withTrio { trio, _, _, client in
            let leased = await eventually(timeout: .seconds(60)) { await trio.active("dc-a", client: client)?.servingHere == true }
            #expect(leased, "dc-a never got a lease")
            guard leased else { return }
            await trio.stop("witness")
            // Wait until dc-a no longer counts the witness as reachable: by then every timeout
            // that its absence could trigger (heartbeat staleness ≥ down_after, lease) has run.
            let forgotten = await eventually(timeout: .seconds(30)) {
                let operatorClient = OperatorClient(baseURL: trio.urls["dc-a"] ?? "", token: operatorToken, client: client)
                guard let status = try? await operatorClient.status().decode(AgentStatusReport.self) else { return false }
                return !status.election.reachablePeers.contains("witness") && status.election.reachablePeers.contains("dc-b")
            }
            #expect(forgotten)
            let a = try #require(await trio.active("dc-a", client: client))
            let b = try #require(await trio.active("dc-b", client: client))
            #expect(a.epoch == 0 && a.activeSite == "dc-a" && a.servingHere)
            #expect(b.epoch == 0 && b.activeSite == "dc-a" && !b.servingHere)
        }
    }
}
