import AsyncHTTPClient
import Foundation
import KafkaClient
import Sandbox
import Testing
import TestSupport

/// A runbook's dry run against a live lab: it answers with the plan, every precondition
/// evaluated, and changes nothing anywhere (issue 9: epochs, sidecar states, group offsets,
/// topic configurations and log ends compared before and after).
extension SandboxProcessTests {
    @Test func aDryRunOfAPlannedSwitchoverPrintsThePlanAndChangesNothing() async throws {
        try await withTemporaryDirectory(prefix: "sandbox-dry-run") { directory in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let layout = LabLayout(directory: directory.appendingPathComponent("lab"), agentPorts: try LabLayout.freeAgentPorts(), timings: LabTimings())
            let session: SandboxSession
            do {
                session = try await SandboxSession.start(
                    layout: layout, executable: try SandboxProcess.executable().path, http: LabHTTP(client: http), rate: 100) { _ in }
            } catch {
                try? await http.shutdown()
                throw error
            }
            do {
                try await eventually(within: .seconds(60), "the workload's records are mirrored and consumed") {
                    session.ledger.totals.delivered >= 300
                }
                // Stop producing and let the consumer and the mirror finish, so only the dry run could change anything.
                await session.drain()
                // ... and the group checkpoints, which commit the group's position at dc-b every
                // interval, have caught up with its last commits at dc-a (copies are 1:1 here).
                try await eventually(within: .seconds(60), "dc-b holds every record of dc-a's orders and the group's position on it") {
                    let facts = (try? await Self.snapshot(session.lab)) ?? [:]
                    let sum = { (prefix: String) in facts.filter { $0.key.hasPrefix(prefix) }.values.compactMap { Int($0) }.reduce(0, +) }
                    let partitions = (0..<3).map { "\($0)" }
                    return sum("dc-a end orders/") > 0 && sum("dc-b end dc-a.orders/") == sum("dc-a end orders/")
                        && partitions.allSatisfy { p in
                            facts["dc-a committed orders/\(p)"] != nil && facts["dc-b committed dc-a.orders/\(p)"] == facts["dc-a committed orders/\(p)"]
                        }
                }
                let before = try await Self.snapshot(session.lab)
                let reply = await session.lab.http.post(
                    layout.agentURL("dc-a") + "/v1/runbooks/planned-switchover/run", bearer: layout.operatorToken,
                    json: Data(#"{"params":{"from":"dc-a","to":"dc-b"},"dryRun":true}"#.utf8), timeout: .seconds(60))
                let answer = try #require(reply)
                let text = String(decoding: answer.body, as: UTF8.self)
                #expect(answer.status == 200, "\(text.prefix(2000))")
                #expect(text.contains("\"plan\""), "the reply carries the plan: \(text.prefix(2000))")
                for step in ["fence-from", "drain", "translate", "promote", "reverse"] {
                    #expect(text.contains("\"\(step)\""), "the plan lists \(step)")
                }
                let after = try await Self.snapshot(session.lab)
                #expect(after == before, "a dry run changed the lab:\nbefore \(before)\nafter  \(after)")
            } catch {
                await session.stop()
                try? await http.shutdown()
                throw error
            }
            await session.stop()
            try await http.shutdown()
        }
    }

    /// Everything a planned switchover would change: what every agent's sidecar answers, and per
    /// cluster the workload group's offsets, the topics' min.insync.replicas and their log ends.
    static func snapshot(_ lab: Lab) async throws -> [String: String] {
        var facts: [String: String] = [:]
        for agent in LabLayout.agents {
            let answer = await lab.http.get(lab.layout.agentURL(agent) + "/v1/active", timeout: .seconds(5))
            let body = try JSONSerialization.jsonObject(with: try #require(answer).body) as? [String: Any] ?? [:]
            facts["\(agent) active"] = "\(body["activeSite"] ?? "-") e\(body["epoch"] ?? "-") \(body["state"] ?? "-")"
        }
        for (site, bootstrap) in lab.bootstrap.sorted(by: { $0.key < $1.key }) {
            let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [bootstrap], clientID: "dry-run-test"))
            let topics = try await admin.listTopics().values.filter { !$0.name.rawValue.hasPrefix("__") }
            let partitions = topics.flatMap { topic in topic.partitions.map { TopicPartition(topic.name, $0.partition) } }
            for (partition, offset) in try await admin.committedOffsets(group: OrderConsumer.group, partitions: partitions) {
                facts["\(site) committed \(partition.topic.rawValue)/\(partition.partition.rawValue)"] = "\(offset.rawValue)"
            }
            for partition in partitions {
                facts["\(site) end \(partition.topic.rawValue)/\(partition.partition.rawValue)"] = "\(try await admin.watermarks(of: partition).high.rawValue)"
            }
            for (topic, configs) in topics.isEmpty ? [:] : try await admin.describeTopicConfigs(topics.map(\.name)) {
                facts["\(site) \(topic.rawValue) min.insync.replicas"] = (try? configs.get())?.first { $0.name == "min.insync.replicas" }?.value ?? "?"
            }
        }
        return facts
    }
}
