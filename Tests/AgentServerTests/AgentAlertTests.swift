import AgentServer
import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import LocalKafka
import Logging
import NIOCore
import ServiceLifecycle
import SwitchbackConfiguration
import Synchronization
import Testing
import TestSupport

/// A loopback HTTP server that records every webhook delivery and answers 200.
final class AlertReceiver: Sendable {
    struct Delivery: Sendable {
        var timestamp: String?
        var signature: String?
        var body: [UInt8]

        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
        func field(_ name: String) -> String? { json?[name] as? String }

        /// Whether the signature is HMAC-SHA256(secret, timestamp "." body).
        func signed(with secret: String) -> Bool {
            guard let timestamp, let signature else { return false }
            let code = HMAC<SHA256>.authenticationCode(
                for: Data((timestamp + ".").utf8) + Data(body), using: SymmetricKey(data: Data(secret.utf8)))
            return signature == "sha256=" + code.map { String(format: "%02x", $0) }.joined()
        }
    }

    private let received = Mutex<[Delivery]>([])
    private let failing = Atomic(false)
    var deliveries: [Delivery] { received.withLock { $0 } }

    /// While set, every delivery is recorded and answered 503.
    func fail(_ on: Bool) { failing.store(on, ordering: .sequentiallyConsistent) }

    /// Records `delivery`; returns the status to answer with.
    func record(_ delivery: Delivery) -> HTTPResponse.Status {
        received.withLock { $0.append(delivery) }
        return failing.load(ordering: .sequentiallyConsistent) ? .serviceUnavailable : .ok
    }

    /// Runs `body` with a receiver at `url` (path `/hook`) on a free loopback port.
    static func with<T>(_ body: (AlertReceiver, _ url: String) async throws -> T) async throws -> T {
        let port = try freeLoopbackPort()
        let receiver = AlertReceiver()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let status = receiver.record(
                Delivery(
                    timestamp: request.headers[HTTPField.Name("X-Switchback-Timestamp")!],
                    signature: request.headers[HTTPField.Name("X-Switchback-Signature")!], body: Array(buffer.readableBytesView)))
            return Response(status: status)
        }
        var logger = Logger(label: "test.alert-receiver")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }
        do {
            let result = try await body(receiver, "http://127.0.0.1:\(port)/hook")
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}

@Suite("Agents send webhook alerts", .serialized, .timeLimit(.minutes(3)))
struct AgentAlertTests {
    @Test("the active cluster blackholed: signed critical alerts for dc-b's failover and dc-a's lost lease")
    func failoverAlerts() async throws {
        let hookSecret = "hook-secret-for-alerts-0123"
        try await AlertReceiver.with { receiver, hookURL in
            try await withLocalKafka(control: true) { brokerA in
                try await withLocalKafka(control: true) { brokerB in
                    try await withTemporaryDirectory(prefix: "agent-alerts") { directory in
                        let secretFile = directory.appendingPathComponent("hook-secret").path
                        try Data(hookSecret.utf8).write(to: URL(fileURLWithPath: secretFile))
                        let trio = try AgentTrio.start(brokerA: brokerA, brokerB: brokerB, directory: directory) { name, role, port, dataDir, ports in
                            agentYAML(
                                name: name, role: role, port: port, dataDir: dataDir,
                                bootstrapA: brokerA.bootstrapServers, bootstrapB: brokerB.bootstrapServers, ports: ports)
                                + """
                                alerts:
                                  webhooks:
                                    - { url: "\(hookURL)", format: generic, secret: { file: "\(secretFile)" } }

                                """
                        }
                        let client = HTTPClient(eventLoopGroupProvider: .singleton)
                        do {
                            try await check(trio: trio, brokerA: brokerA, receiver: receiver, secret: hookSecret, client: client)
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
    }

    private func check(
        trio: AgentTrio, brokerA: LocalKafkaBroker, receiver: AlertReceiver, secret: String, client: HTTPClient
    ) async throws {
        let leased = await eventually(timeout: .seconds(60)) { await trio.active("dc-a", client: client)?.servingHere == true }
        #expect(leased, "dc-a never got a lease")
        guard leased else { return }
        brokerA.faults.inject(.blackhole)

        let promoted = await eventually(timeout: .seconds(60)) {
            receiver.deliveries.contains {
                $0.field("agent") == "dc-b" && $0.field("severity") == "critical"
                    && ($0.field("kind") == "failover" || $0.field("kind") == "promoted") && $0.field("site") == "dc-b"
            }
        }
        #expect(promoted, "no critical failover alert from dc-b; got \(receiver.deliveries.map { "\($0.field("agent") ?? "?") \($0.field("kind") ?? "?")" })")
        let leaseLost = await eventually(timeout: .seconds(30)) {
            receiver.deliveries.contains { $0.field("agent") == "dc-a" && $0.field("kind") == "leaseLost" && $0.field("severity") == "critical" }
        }
        #expect(leaseLost, "no lease-lost alert from dc-a; got \(receiver.deliveries.map { "\($0.field("agent") ?? "?") \($0.field("kind") ?? "?")" })")
        // dc-b also saw dc-a's cluster go down.
        #expect(await eventually {
            receiver.deliveries.contains { $0.field("agent") == "dc-b" && $0.field("kind") == "siteDown" && $0.field("site") == "dc-a" }
        })

        let deliveries = receiver.deliveries
        #expect(!deliveries.isEmpty)
        #expect(deliveries.allSatisfy { $0.signed(with: secret) }, "an alert was unsigned or signed with another key")
        #expect(!deliveries.contains { $0.signed(with: "wrong") })
        // Each alert once per agent while the receiver answers 200: (agent, id) pairs are unique.
        // (A failover's id is the same from every agent, so receivers can treat it as one incident.)
        let ids = deliveries.compactMap { delivery in delivery.field("id").map { "\(delivery.field("agent") ?? "?") \($0)" } }
        #expect(ids.count == deliveries.count)
        #expect(Set(ids).count == ids.count, "an alert was delivered twice")
        let failoverIDs = Set(deliveries.filter { $0.field("kind") == "failover" }.compactMap { $0.field("id") })
        #expect(failoverIDs.count == 1, "one failover, one incident id: \(failoverIDs)")

        // The operator status shows the outbox, drained, without the webhook's path.
        let reply = try await http(client, .GET, try #require(trio.urls["dc-b"]) + "/v1/status", headers: [("Authorization", "Bearer \(operatorToken)")])
        #expect(reply.status == 200)
        let report = try decodeJSON(AgentStatusReport.self, reply.body)
        let outbox = try #require(report.alerts?.first)
        #expect(outbox.webhook.hasPrefix("generic http://127.0.0.1:"))
        #expect(!outbox.webhook.contains("/hook"))
        #expect(await eventually {
            guard let reply = try? await http(client, .GET, trio.urls["dc-b"]! + "/v1/status", headers: [("Authorization", "Bearer \(operatorToken)")]),
                let report = try? decodeJSON(AgentStatusReport.self, reply.body)
            else { return false }
            return report.alerts?.first?.pending == 0
        })
        #expect(!String(decoding: reply.body, as: UTF8.self).contains(secret))
    }
}

@Suite("An agent's undelivered alerts across a restart", .serialized, .timeLimit(.minutes(2)))
struct AgentAlertRestartTests {
    @Test("alerts the receiver refused stay in data_dir/alerts through a stop and are delivered after the restart")
    func pendingSurvivesRestart() async throws {
        try await AlertReceiver.with { receiver, hookURL in
            try await withLocalKafka { brokerA in
                try await withTemporaryDirectory(prefix: "agent-alert-restart") { directory in
                    // dc-b's cluster does not exist, so dc-a's probe of it fails at once: a siteDown alert.
                    let ports = ["dc-a": try freeLoopbackPort(), "dc-b": try freeLoopbackPort(), "witness": try freeLoopbackPort()]
                    let dataDir = directory.appendingPathComponent("dc-a").path
                    let text = agentYAML(
                        name: "dc-a", port: try #require(ports["dc-a"]), dataDir: dataDir, bootstrapA: brokerA.bootstrapServers,
                        bootstrapB: "127.0.0.1:\(try freeLoopbackPort())", ports: ports)
                        + "alerts:\n  webhooks:\n    - { url: \"\(hookURL)\", format: generic }\n"
                    let configuration = try AgentConfiguration.parse(yaml: text, secrets: secrets)
                    var logger = Logger(label: "test.agent.dc-a")
                    logger.logLevel = .critical
                    receiver.fail(true)

                    func runAgent(until condition: () async -> Bool) async throws -> Bool {
                        let agent = Agent(configuration: configuration, logger: logger, warmUpLimit: .milliseconds(500))
                        let group = ServiceGroup(services: [agent], gracefulShutdownSignals: [], logger: logger)
                        let task = Task { try await group.run() }
                        let held = await eventually(timeout: .seconds(30), condition)
                        await group.triggerGracefulShutdown()
                        try await task.value
                        return held
                    }
                    func siteDownAlerts() -> [AlertReceiver.Delivery] {
                        receiver.deliveries.filter { $0.field("kind") == "siteDown" && $0.field("site") == "dc-b" }
                    }

                    // First life: the alert is refused (503) and retried; it is on disk when the agent stops.
                    #expect(try await runAgent { !siteDownAlerts().isEmpty })
                    let refused = try #require(siteDownAlerts().first?.field("id"))
                    let outboxes = try FileManager.default.contentsOfDirectory(atPath: dataDir + "/alerts")
                    #expect(outboxes.count == 1)
                    let outbox = dataDir + "/alerts/" + (outboxes.first ?? "")
                    #expect(try FileManager.default.contentsOfDirectory(atPath: outbox).contains { $0.hasSuffix(".json") })

                    // Second life: the receiver works again and gets the very alert it refused, once.
                    receiver.fail(false)
                    let firstLife = receiver.deliveries.count
                    func outboxDrained() -> Bool {
                        (try? FileManager.default.contentsOfDirectory(atPath: outbox).contains { $0.hasSuffix(".json") }) == false
                    }
                    let delivered = try await runAgent {
                        receiver.deliveries.dropFirst(firstLife).contains { $0.field("id") == refused } && outboxDrained()
                    }
                    #expect(receiver.deliveries.dropFirst(firstLife).filter { $0.field("id") == refused }.count == 1)
                    #expect(delivered, "the alert refused before the restart was not delivered after it")
                }
            }
        }
    }
}

@Suite("Which audit entries become alerts")
struct AgentAlertMappingTests {
    func entry(_ kind: String, site: String? = nil, healthy: Bool? = nil) -> AuditEntry {
        AuditEntry(time: Date(timeIntervalSince1970: 1_790_000_000), agent: "dc-b", epoch: 4, kind: kind, message: "m", site: site, healthy: healthy)
    }

    @Test("failovers, promotions and lost leases are critical; probe transitions name the probed site; votes are not alerts")
    func mapping() throws {
        let failover = try #require(AgentAlerts.alert(for: entry("committed"), ownSite: "dc-a", activeSite: "dc-b"))
        #expect(failover.kind == .failover && failover.severity == .critical && failover.site == "dc-b" && failover.epoch == 4)
        // The same commit reported by another agent is the same incident.
        var fromWitness = entry("committed")
        fromWitness.agent = "witness"
        fromWitness.time = fromWitness.time.addingTimeInterval(0.2)
        #expect(AgentAlerts.alert(for: fromWitness, ownSite: nil, activeSite: "dc-b")?.id == failover.id)
        #expect(AgentAlerts.alert(for: entry("leaseLost"), ownSite: "dc-a", activeSite: "dc-b")?.id != failover.id)
        #expect(AgentAlerts.alert(for: entry("promote"), ownSite: "dc-b", activeSite: "dc-b")?.severity == .critical)
        let lost = try #require(AgentAlerts.alert(for: entry("leaseLost"), ownSite: "dc-a", activeSite: "dc-b"))
        #expect(lost.kind == .leaseLost && lost.severity == .critical && lost.site == "dc-a")
        #expect(AgentAlerts.alert(for: entry("leaseAcquired"), ownSite: "dc-b", activeSite: "dc-b")?.severity == .info)
        let down = try #require(AgentAlerts.alert(for: entry("probe", site: "dc-a", healthy: false), ownSite: "dc-b", activeSite: "dc-a"))
        #expect(down.kind == .siteDown && down.severity == .warning && down.site == "dc-a")
        let up = try #require(AgentAlerts.alert(for: entry("probe", site: "dc-a", healthy: true), ownSite: "dc-b", activeSite: "dc-a"))
        #expect(up.kind == .siteUp && up.severity == .info)
        #expect(AgentAlerts.alert(for: entry("electionAbandoned"), ownSite: nil, activeSite: "dc-a")?.severity == .warning)
        #expect(AgentAlerts.alert(for: entry("operatorAction"), ownSite: nil, activeSite: "dc-a")?.severity == .info)
        for routine in ["voteGranted", "voteRefused", "candidacy", "commitAccepted", "messageRefused", "elected"] {
            #expect(AgentAlerts.alert(for: entry(routine), ownSite: "dc-b", activeSite: "dc-a") == nil, "\(routine) became an alert")
        }
    }

    @Test("a pagerduty webhook without its routing key is refused when the configuration is read")
    func pagerdutyNeedsRoutingKey() throws {
        let text = agentYAML(name: "dc-a", port: 7070, dataDir: "/tmp/x", bootstrapA: "a:9092", bootstrapB: "b:9092", ports: [:])
            + "alerts:\n  webhooks:\n    - { url: \"https://events.pagerduty.com/v2/enqueue\", format: pagerduty }\n"
        #expect {
            try AgentConfiguration.parse(yaml: text, secrets: secrets)
        } throws: { error in
            "\(error)".contains("routing key")
        }
    }
}
