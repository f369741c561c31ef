import AgentServer
import Consensus
import Foundation
import LocalKafka
import Testing
import TestSupport

@Suite("Agent health: readiness from probes, failed saves reported", .timeLimit(.minutes(2)))
struct AgentHealthTests {
    @Test("/readyz is 503 while the agent's own cluster probe fails, naming the site; 200 once it succeeds")
    func readinessFollowsOwnCluster() async throws {
        try await withAgent { _, base, client, _ in
            let failing = await eventually {
                guard let reply = try? await http(client, .GET, base + "/readyz") else { return false }
                return reply.status == 503 && String(decoding: reply.body, as: UTF8.self).contains("(dc-a) failed")
            }
            #expect(failing, "an agent whose cluster is unreachable was ready")
        }
        try await withLocalKafka { broker in
            try await withAgent(editYAML: { $0.replacingOccurrences(of: "bootstrap: \"127.0.0.1:1\"", with: "bootstrap: \"\(broker.bootstrapServers)\"") }) {
                _, base, client, _ in
                #expect(await eventually { (try? await http(client, .GET, base + "/readyz").status) == 200 })
            }
        }
    }

    @Test("a witness is ready only when a majority of the sites' clusters probe healthy")
    func witnessReadiness() async throws {
        try await withLocalKafka { broker in
            try await withAgent(name: "witness", editYAML: {
                $0.replacingOccurrences(of: "role: member", with: "role: witness")
                    .replacingOccurrences(of: "bootstrap: \"127.0.0.1:1\"", with: "bootstrap: \"\(broker.bootstrapServers)\"")
            }) { _, base, client, _ in
                // dc-a healthy, dc-b unreachable: 1 of 2 is no majority.
                let notReady = await eventually {
                    guard let reply = try? await http(client, .GET, base + "/readyz") else { return false }
                    return reply.status == 503 && String(decoding: reply.body, as: UTF8.self).contains("1 of 2 sites")
                }
                #expect(notReady)
            }
        }
    }

    @Test("a standby whose state cannot be saved counts it in switchback_state_save_failures_total and raises a critical alert")
    func failedSaveReported() async throws {
        try await AlertReceiver.with { receiver, hookURL in
            try await withAgent(name: "dc-b", editYAML: { $0 + "alerts:\n  webhooks:\n    - { url: \"\(hookURL)\", format: generic }\n" }) {
                agent, base, client, dataDir in
                let host = try #require(agent.electionHost)
                _ = await host.perform(.setMaintenance(true))
                #expect(FileManager.default.fileExists(atPath: dataDir + "/election.json"))
                // A directory where the save writes its temporary file: every save fails (even as root).
                try FileManager.default.createDirectory(atPath: dataDir + "/election.json.tmp", withIntermediateDirectories: false)
                _ = await host.perform(.setMaintenance(false))
                let metrics = String(decoding: try await http(client, .GET, base + "/metrics").body, as: UTF8.self)
                #expect(metrics.contains("switchback_state_save_failures_total 1"), "\(metrics)")
                let alerted = await eventually { receiver.deliveries.contains { $0.field("kind") == "stateSaveFailed" } }
                #expect(alerted, "no stateSaveFailed alert reached the webhook")
                let alert = receiver.deliveries.first { $0.field("kind") == "stateSaveFailed" }
                #expect(alert?.field("severity") == "critical")
                #expect(alert?.field("message")?.contains("election.json") == true)
                // The agent keeps serving from the state on disk.
                #expect(try await http(client, .GET, base + "/healthz").status == 200)
            }
        }
    }
}
