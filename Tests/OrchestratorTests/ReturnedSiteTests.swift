import Consensus
import Foundation
import KafkaClient
import Logging
import Mirror
import Orchestrator
import Sites
import SwitchbackConfiguration
import Synchronization
import TestSupport
import Testing

/// The data plane of a demoted site that returns (dc-a after a failover to dc-b): before the
/// reverse flow copies into it, its cluster is fenced, its unmirrored records are reconciled to
/// dc-b and it is unfenced again — also when the first attempt fails and the agent restarts
/// before the next. Two LocalKafka brokers, the real data plane and flow supervisor.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ReturnedSiteTests {
    static let e0 = SiteConfig(epoch: Epoch(0), activeSite: FencingLab.a, mirrorDirection: MirrorDirection(from: FencingLab.a, to: FencingLab.b), cause: .initial)
    static let e1 = SiteConfig(epoch: Epoch(1), activeSite: FencingLab.b, mirrorDirection: MirrorDirection(from: FencingLab.b, to: FencingLab.a), cause: .automaticFailover)

    /// What the data plane audited, in order.
    final class AuditTrail: Sendable {
        private let entries = Mutex<[String]>([])
        func append(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    /// dc-a's data plane under `e1`, with the lab's flows both ways.
    static func dataPlane(_ lab: FencingLab, directory: String, audit: AuditTrail) throws -> DataPlane {
        let flows = [
            FlowRoute(from: FencingLab.a, to: FencingLab.b): try lab.flow(from: FencingLab.a, to: FencingLab.b, policy: .prefix),
            FlowRoute(from: FencingLab.b, to: FencingLab.a): try lab.flow(from: FencingLab.b, to: FencingLab.a, policy: .prefix),
        ]
        let configure: @Sendable (FlowRoute) throws(ConfigurationError) -> FlowConfiguration = { route throws(ConfigurationError) in
            guard let flow = flows[route] else {
                throw ConfigurationError(.invalidValue, keyPath: "mirror.flows", problem: "no flow \(route) in this lab", fix: "use dc-a→dc-b or dc-b→dc-a")
            }
            return flow
        }
        let plan = FlowPlan(ownSite: FencingLab.a, role: .member, settings: .auto)
        let supervisor = FlowSupervisor(
            plan: plan, dataDirectory: directory, holder: "returned-site test", configure: { route, _ throws(ConfigurationError) in try configure(route) },
            logger: FencingLab.logger)
        let environment = DataPlane.Environment(
            ownSite: FencingLab.a, initial: e0, committed: { e1 },
            nextCommit: { _, timeout in try? await Task.sleep(for: min(timeout, .milliseconds(200))) },
            flowConfiguration: configure,
            audit: { kind, _, message in audit.append("\(kind): \(message)") }, onChange: {})
        return DataPlane(environment: environment, supervisor: supervisor, dataDirectory: directory, logger: FencingLab.logger)
    }

    @Test("a reconcile that failed is done again after a restart: dc-a's unmirrored records reach dc-b, dc-a is unfenced, the reverse flow resumes the old one")
    func aFailedReconcileIsRetriedAfterARestart() async throws {
        try await withFencingLab { lab in
            // `orders` was created at dc-a after the flow's last provisioning: dc-b has no copy
            // of it yet, so the first reconcile cannot copy its five records.
            try await lab.createTopic("orders", at: FencingLab.a)
            try await lab.produce((0..<5).map { "unmirrored-\($0)" }, to: "orders", at: FencingLab.a)
            let directory = lab.directory.appendingPathComponent("agent-dc-a").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let audit = AuditTrail()

            let first = try Self.dataPlane(lab, directory: directory, audit: audit)
            let firstRun = Task { try await first.run() }
            try await eventually(within: .seconds(60), "the first reconcile fails") {
                audit.all.contains { $0.hasPrefix("warning: flow dc-b→dc-a cannot start") && $0.contains("cannot-copy") }
            }
            firstRun.cancel()
            _ = await firstRun.result
            #expect(try await lab.acksAllRefusal("orders", at: FencingLab.a) != nil, "dc-a is fenced while it is not reconciled")
            #expect(first.supervisor.routes.isEmpty, "the reverse flow waits for the reconcile")

            // The copy's topic exists now; the agent comes back (same data directory).
            try await lab.createTopic("dc-a.orders", at: FencingLab.b)
            let second = try Self.dataPlane(lab, directory: directory, audit: audit)
            let flows = Task { try await second.supervisor.run() }
            let secondRun = Task { try await second.run() }
            defer {
                secondRun.cancel()
                flows.cancel()
            }
            try await eventually(within: .seconds(60), "the reverse flow runs") {
                second.supervisor.reports().contains { $0.from == "dc-b" && $0.to == "dc-a" }
            }
            #expect(second.supervisor.reports().first?.reverseOf == "dc-a→dc-b", "it resumes the forward flow's map: \(second.supervisor.reports())")
            #expect(second.snapshot.lastReconcile?.recoveredCount == 5, "\(String(describing: second.snapshot.lastReconcile))")
            let copies = try await lab.records("dc-a.orders", at: FencingLab.b).filter { $0.header(Reconciler.recoveredKey) != nil }
            #expect(copies.map(\.valueString) == (0..<5).map { "unmirrored-\($0)" })
            #expect(try await lab.acksAllRefusal("orders", at: FencingLab.a) == nil, "dc-a is unfenced: its producers can write once it is active again")
        }
    }
}
