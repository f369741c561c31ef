import AgentServer
import Foundation
import Orchestrator
import TestSupport
import Testing

/// Issue 9's data plane end to end, on the partition tests' lab (real `switchback agent` and
/// `switchback broker` processes on hosts in network namespaces): the agents run the flow
/// themselves (`flows: auto`), and an application — `Tests/Compatibility/sidecar_workload.py`,
/// a confluent-kafka producer and a group committing after every record, both following dc-b's
/// sidecar from the observer host — keeps working through the failover.
extension PartitionTests {
    /// `Tests/Compatibility/`, where the Python clients' scripts are.
    static let compatibilityScripts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Compatibility", isDirectory: true)

    /// What the workload wrote at its end.
    struct WorkloadResult: Decodable {
        struct Consumed: Decodable {
            var value: Int
            var epoch: UInt64
            var topic: String
        }

        var acked: [Int]
        var consumed: [Consumed]
        var servingSeen: [String: Double]
        var errors: [String]
    }

    struct WorkloadProgress: Decodable {
        var acked: Int
        var consumed: Int
    }

    /// The fault: dc-a's broker blackholed (`POST /faults/blackhole`) while the workload
    /// produces 100 records/s and consumes them.
    @Test("unplanned failover under load: groups continue from their checkpoints at dc-b; serving only after they are positioned",
          arguments: ["prefix", "identity"])
    func failoverUnderLoad(policy: String) async throws {
        let subscribe = policy == "prefix" ? "^(dc-[a-z]+\\.)?orders$" : "orders"
        try await SiteLab.with(prefix: "dataplane-\(policy)", mirror: "{ policy: \(policy) }") { lab in
            let directory = lab.directory
            let progress = directory.appendingPathComponent("workload-progress.json")
            let stop = directory.appendingPathComponent("workload-stop")
            let out = directory.appendingPathComponent("workload-result.json")
            let bAddress = try #require(lab.network.hosts["b"])
            let servedBefore = await eventually(timeout: .seconds(30)) { lab.active("b")?.state == .serving }
            #expect(servedBefore, "dc-b's sidecar never said serving for dc-a before the fault: \(String(describing: lab.active("b")))")
            let workload = try lab.network.start(
                on: "obs", "/usr/bin/env",
                [
                    "python3", Self.compatibilityScripts.appendingPathComponent("sidecar_workload.py").path, "--sidecar", "http://\(bAddress):7070",
                    "--subscribe", subscribe, "--rate", "100", "--stop-file", stop.path, "--progress", progress.path,
                    "--out", out.path,
                ],
                // The python3 with confluent-kafka is the one on this test's PATH (pyenv, a venv).
                environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "HOME": NSHomeDirectory()],
                log: directory.appendingPathComponent("workload.log"))
            func counts() -> WorkloadProgress? {
                (try? Data(contentsOf: progress)).flatMap { try? JSONDecoder().decode(WorkloadProgress.self, from: $0) }
            }
            let warmed = await eventually(timeout: .seconds(60)) { (counts()?.consumed ?? 0) >= 300 }
            try #require(warmed, "the workload did not get going at dc-a: \(String(describing: counts())); logs in \(directory.path)")
            // Let dc-b's flow and checkpoints catch up with a steady stream, as in production.
            let mirrored = await eventually(timeout: .seconds(30)) {
                guard let flow = lab.status("b")?.dataPlane?.flows.first else { return false }
                return (flow.lag ?? .max) < 200 && !flow.checkpointAges.isEmpty
            }
            #expect(mirrored, "dc-b's flow never caught up or checkpointed: \(String(describing: lab.status("b")?.dataPlane))")

            let before = try #require(lab.active("b")).epoch
            let since = Date()
            try lab.brokerControl("a", "/faults/blackhole")
            let failedOver = await eventually(timeout: .seconds(60)) {
                guard let b = lab.active("b") else { return false }
                return b.activeSite == "dc-b" && b.epoch == before + 1 && b.state == .serving
            }
            if !failedOver {
                let trail = (try? AuditTrail(lab, since: since))?.lines.filter { $0.host == "b" }.map(\.description) ?? []
                let plane = String(describing: lab.status("b")?.dataPlane)
                let answer = String(describing: lab.active("b"))
                let comment = Comment(rawValue: "dc-b never served after the blackhole: \(answer); data plane \(plane); audit:\n" + trail.joined(separator: "\n"))
                Issue.record(comment)
                return
            }
            let ackedAtFailover = counts()?.acked ?? 0
            let resumed = await eventually(timeout: .seconds(60)) { (counts()?.acked ?? 0) >= ackedAtFailover + 300 }
            #expect(resumed, "the workload did not produce at dc-b after the failover: \(String(describing: counts()))")
            try Data().write(to: stop)
            let finished = await eventually(timeout: .seconds(60)) { !workload.isRunning }
            try #require(finished, "the workload did not finish; logs in \(directory.path)")
            let result = try JSONDecoder().decode(WorkloadResult.self, from: Data(contentsOf: out))

            let report = try #require(lab.status("b")?.dataPlane?.lastFailover, "dc-b has no failover report")
            print("dataplane[\(policy)]: \(report)")
            #expect(report.positionedFrom == "checkpoints", "positions came from \(report.positionedFrom)")
            #expect(report.groupsPositioned.contains("orders-app"), "not positioned: \(report)")

            // Every record acknowledged at dc-b is consumed; of dc-a's, at most the unmirrored tail is missing.
            let consumed = Set(result.consumed.map(\.value))
            let lost = Set(result.acked).subtracting(consumed)
            let duplicates = result.consumed.count - consumed.count
            print("dataplane[\(policy)]: acked \(result.acked.count), consumed \(result.consumed.count), lost \(lost.count) "
                + "(at risk \(report.recordsAtRiskTotal)), delivered twice \(duplicates); sidecar serving first seen \(result.servingSeen)")
            #expect(lost.count <= report.recordsAtRiskTotal, "lost \(lost.sorted().prefix(20)) but only \(report.recordsAtRiskTotal) were at risk")
            let ackedAtB = Set(result.acked.suffix(from: min(ackedAtFailover, result.acked.count)))
            #expect(ackedAtB.isSubset(of: consumed), "records produced at dc-b not consumed: \(ackedAtB.subtracting(consumed).sorted().prefix(20))")
            // One checkpoint interval (1 s) of consumption at 100 records/s, plus the checkpoint's
            // own read and the map's store interval: twice that is the bound.
            #expect(duplicates <= 200, "\(duplicates) records delivered twice")
            let epochs = Set(result.consumed.map(\.epoch))
            #expect(epochs.contains(before + 1), "nothing consumed at dc-b: epochs \(epochs)")

            // The sidecar did not say serving at dc-b before the groups were positioned there.
            let audit = try AuditTrail(lab, since: since)
            let positioned = try #require(
                audit.lines.first { $0.host == "b" && $0.entry.kind == "groupsPositioned" && $0.entry.epoch == before + 1 },
                "no groupsPositioned entry at dc-b: \(audit)")
            let servedAt = try #require(result.servingSeen["\(before + 1)"], "the workload never saw serving in e\(before + 1)")
            #expect(Date(timeIntervalSince1970: servedAt) >= positioned.entry.time,
                    "the sidecar said serving at \(Date(timeIntervalSince1970: servedAt)), groups positioned at \(positioned.entry.time)")
            #expect(result.errors.filter { $0.hasPrefix("commit") }.isEmpty, "\(result.errors)")
        }
    }
}
