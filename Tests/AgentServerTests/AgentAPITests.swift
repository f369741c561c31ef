import AgentServer
import AsyncHTTPClient
import Consensus
import Foundation
import InMemoryLogging
import Logging
import ServiceLifecycle
import SwitchbackConfiguration
import TestSupport
import Testing

/// Runs one real agent (its clusters unreachable, its peers absent) on a loopback port.
/// `editYAML` changes the configuration text first; `log` records the agent's log.
func withAgent<T>(
    name: String = "dc-a", editYAML: (String) -> String = { $0 }, log: InMemoryLogHandler? = nil,
    _ body: (Agent, String, HTTPClient, String) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory(prefix: "agent-api") { directory in
        let yaml = editYAML(agentYAML(
            name: name, port: 0, dataDir: directory.path, bootstrapA: "127.0.0.1:1", bootstrapB: "127.0.0.1:2",
            ports: ["dc-a": 1, "dc-b": 2, "witness": 3]))
        let configuration = try AgentConfiguration.parse(yaml: yaml, secrets: secrets)
        var logger = log.map { handler in Logger(label: "test.agent.\(name)", factory: { _ in handler }) } ?? Logger(label: "test.agent.\(name)")
        logger.logLevel = .warning
        // The clusters are unreachable on purpose: no point waiting for them at start.
        let agent = Agent(configuration: configuration, logger: logger, warmUpLimit: .zero)
        let group = ServiceGroup(services: [agent], logger: logger)
        let running = Task { try await group.run() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let listening = await eventually { agent.listeningPort != nil }
            let port = try #require(agent.listeningPort, "the agent did not start listening (\(listening))")
            let result = try await body(agent, "http://127.0.0.1:\(port)", client, directory.path)
            await group.triggerGracefulShutdown()
            try await running.value
            try await client.shutdown()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            try? await client.shutdown()
            throw error
        }
    }
}

let bearer = [("Authorization", "Bearer \(operatorToken)")]

/// Signs `message` as `agent` for `recipient` the way peers do.
func signedPeerRequest(
    _ message: PeerMessage, as agent: String, to recipient: String = "dc-a", timestamp: Int64 = Int64(Date().timeIntervalSince1970)
) throws -> (headers: [(String, String)], body: [UInt8]) {
    let body = Array(try JSONEncoder().encode(message))
    let headers = PeerSignature(secret: peerSecret).headers(sender: agent, recipient: recipient, timestamp: timestamp, body: body)
    return (headers + [("Content-Type", "application/json")], body)
}

func heartbeat(from agent: String) -> PeerMessage {
    PeerMessage(
        from: AgentID(agent),
        body: .heartbeat(Heartbeat(
            currentEpoch: .initial, committed: .initial(activeSite: "dc-a", standbySite: "dc-b"), accepted: nil,
            downSites: [], servingActive: false, maintenance: .off, acknowledgedEpoch: .initial)))
}

@Suite("Agent HTTP API", .timeLimit(.minutes(2)))
struct AgentAPITests {
    @Test("sidecar: /v1/active answers the committed site and its bootstrap; health endpoints say 200 only where true")
    func sidecar() async throws {
        try await withAgent { _, base, client, _ in
            let answer = try decodeJSON(ActiveAnswer.self, try await http(client, .GET, base + "/v1/active").body)
            #expect(answer.epoch == 0)
            #expect(answer.activeSite == "dc-a")
            #expect(answer.bootstrapServers == ["127.0.0.1:1"])
            // No peer acknowledges a lease: dc-a is the committed active site but fenced.
            #expect(answer.servingHere == false)
            #expect(try await http(client, .GET, base + "/v1/health/active").status == 503)
            #expect(try await http(client, .GET, base + "/v1/health/standby").status == 503)
            #expect(try await http(client, .GET, base + "/healthz").status == 200)
            // Its cluster is unreachable: not ready (AgentHealthTests has the ready case).
            #expect(await eventually { (try? await http(client, .GET, base + "/readyz").status) == 503 })
            #expect(try await http(client, .GET, base + "/v1/active?wait=soon").status == 400)
            #expect(try await http(client, .GET, base + "/v1/active?wait=1s&after=-3").status == 400)
        }
    }

    @Test("long-poll: times out with the same epoch when nothing changes")
    func longPollTimesOut() async throws {
        try await withAgent { _, base, client, _ in
            let reply = try await http(client, .GET, base + "/v1/active?wait=300ms&after=0")
            #expect(reply.status == 200)
            #expect(try decodeJSON(ActiveAnswer.self, reply.body).epoch == 0)
        }
    }

    @Test("long-poll: returns the new configuration when the epoch changes (operator failover as trigger)")
    func longPollReturnsOnChange() async throws {
        try await withAgent { _, base, client, _ in
            let poll = Task { try await http(client, .GET, base + "/v1/active?wait=30s&after=0") }
            let request = try JSONEncoder().encode(MoveRequest(to: "dc-b", ignoreHealth: true, withoutMajority: true))
            let reply = try await http(client, .POST, base + "/v1/failover", headers: bearer + [("Content-Type", "application/json")], body: Array(request))
            #expect(reply.status == 200)
            let decided = try decodeJSON(OperatorResponse.self, reply.body)
            #expect(decided.decisions.contains { $0.kind == .operatorAction })
            let changed = try await poll.value
            let answer = try decodeJSON(ActiveAnswer.self, changed.body)
            #expect(answer.epoch == 1)
            #expect(answer.activeSite == "dc-b")
            #expect(answer.bootstrapServers == ["127.0.0.1:2"])
            // dc-a is now standby.
            #expect(try await http(client, .GET, base + "/v1/health/standby").status == 200)
        }
    }

    @Test("peer API: a signed message from its sender is accepted; replays, bad signatures, stale times and forged senders are refused")
    func peerAuthentication() async throws {
        try await withAgent { _, base, client, _ in
            let url = base + "/v1/peer/message"
            let good = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
            #expect(try await http(client, .POST, url, headers: good.headers, body: good.body).status == 202)
            // The very same request again: a replay.
            #expect(try await http(client, .POST, url, headers: good.headers, body: good.body).status == 401)

            var tampered = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b", timestamp: Int64(Date().timeIntervalSince1970) - 1)
            tampered.body[tampered.body.count / 2] ^= 0x01
            #expect(try await http(client, .POST, url, headers: tampered.headers, body: tampered.body).status == 401)

            let stale = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b", timestamp: Int64(Date().timeIntervalSince1970) - 120)
            #expect(try await http(client, .POST, url, headers: stale.headers, body: stale.body).status == 401)

            let forged = try signedPeerRequest(heartbeat(from: "witness"), as: "dc-b", timestamp: Int64(Date().timeIntervalSince1970) - 2)
            #expect(try await http(client, .POST, url, headers: forged.headers, body: forged.body).status == 401)

            let wrongKey = PeerSignature(secret: "another-secret-entirely-000000")
                .headers(sender: "dc-b", recipient: "dc-a", timestamp: Int64(Date().timeIntervalSince1970), body: good.body)
            #expect(try await http(client, .POST, url, headers: wrongKey, body: good.body).status == 401)
            #expect(try await http(client, .POST, url, body: good.body).status == 401)

            // Authentic but not a peer message: 400, and the agent keeps serving.
            let garbage = Array("{\"from\":\"dc-b\",\"body\":{\"nonsense\":1}}".utf8)
            let now = Int64(Date().timeIntervalSince1970)
            let signed = PeerSignature(secret: peerSecret).headers(sender: "dc-b", recipient: "dc-a", timestamp: now, body: garbage)
            let malformed = try await http(client, .POST, url, headers: signed, body: garbage)
            #expect(malformed.status == 400)
            #expect(try await http(client, .GET, base + "/healthz").status == 200)

            let metrics = String(decoding: try await http(client, .GET, base + "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("switchback_peer_requests_refused_total 6"))
        }
    }

    @Test("operator API: bearer token required; status has no secrets; malformed input is a 400")
    func operatorAPI() async throws {
        try await withAgent { _, base, client, dataDir in
            #expect(try await http(client, .GET, base + "/v1/status").status == 401)
            #expect(try await http(client, .GET, base + "/v1/status", headers: [("Authorization", "Bearer wrong")]).status == 401)
            let status = try await http(client, .GET, base + "/v1/status", headers: bearer)
            #expect(status.status == 200)
            let text = String(decoding: status.body, as: UTF8.self)
            #expect(!text.contains(peerSecret))
            #expect(!text.contains(operatorToken))
            let report = try decodeJSON(AgentStatusReport.self, status.body)
            #expect(report.agent == "dc-a")
            #expect(report.election.committed.activeSite == "dc-a")
            #expect(!StatusText.render(report).isEmpty)

            #expect(try await http(client, .POST, base + "/v1/maintenance", headers: bearer, body: Array("{not json".utf8)).status == 400)
            #expect(try await http(client, .POST, base + "/v1/failover", headers: bearer, body: Array(#"{"to":"dc-z"}"#.utf8)).status == 400)
            let maintenance = try await http(client, .POST, base + "/v1/maintenance", headers: bearer, body: Array(#"{"enabled":true}"#.utf8))
            #expect(maintenance.status == 200)
            #expect(try decodeJSON(OperatorResponse.self, maintenance.body).status.election.maintenance)
            #expect(try await http(client, .POST, base + "/v1/ack", headers: bearer).status == 200)

            let metrics = String(decoding: try await http(client, .GET, base + "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("switchback_election_epoch"))
            #expect(metrics.contains("switchback_probe_healthy"))
            // dc-a is the committed active site: the lost-lease alert compares these two.
            #expect(metrics.contains("switchback_own_site_active 1"))
            #expect(metrics.contains(#"switchback_active_site_info{site="dc-a"} 1"#))
            #expect(metrics.contains(#"switchback_active_site_info{site="dc-b"} 0"#))

            // The decisions are in the audit log, on disk.
            let logged = await eventually { ((try? AuditLog.read(path: dataDir + "/audit.jsonl")) ?? []).contains { $0.message.contains("maintenance on") } }
            #expect(logged)
        }
    }

    @Test("operator client: talks to the agent and reports its refusals")
    func operatorClient() async throws {
        try await withAgent { _, base, client, _ in
            let good = OperatorClient(baseURL: base, token: operatorToken, client: client)
            let report = try await good.status().decode(AgentStatusReport.self)
            #expect(report.active.activeSite == "dc-a")
            let bad = OperatorClient(baseURL: base, token: "nope", client: client)
            await #expect(throws: OperatorClientError.self) { _ = try await bad.status() }
        }
    }
}

@Suite("Election state durability", .timeLimit(.minutes(1)))
struct ElectionDurabilityTests {
    @Test("a failed save drops the step and, when the state cannot be reloaded either, stops the agent with an error")
    func failedSaveStopsAgent() async throws {
        try await withTemporaryDirectory(prefix: "agent-durability") { directory in
            let dataDir = directory.appendingPathComponent("data")
            let yaml = agentYAML(
                name: "dc-a", port: 0, dataDir: dataDir.path, bootstrapA: "127.0.0.1:1", bootstrapB: "127.0.0.1:2",
                ports: ["dc-a": 1, "dc-b": 2, "witness": 3])
            let configuration = try AgentConfiguration.parse(yaml: yaml, secrets: secrets)
            var logger = Logger(label: "test.agent.durability")
            logger.logLevel = .critical
            let agent = Agent(configuration: configuration, logger: logger, warmUpLimit: .zero)
            let running = Task { try await agent.run() }
            #expect(await eventually { agent.electionHost != nil })
            let host = try #require(agent.electionHost)
            // Persist once so the state file exists, then take the directory away.
            _ = await host.perform(.setMaintenance(true))
            #expect(FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("election.json").path))
            try FileManager.default.removeItem(at: dataDir)
            let decisions = await host.perform(.setMaintenance(false))
            #expect(decisions.isEmpty, "the step after the failed save must not be performed")
            await #expect(throws: AgentError.self) { try await running.value }
        }
    }
}
