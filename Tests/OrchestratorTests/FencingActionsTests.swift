import Consensus
import Orchestrator
import SwitchbackConfiguration
import Testing

/// `fence-site`, `unfence-site` and `reconcile` as a runbook engine calls them, over an agent
/// configuration that names the two lab brokers.
@Suite(.serialized, .timeLimit(.minutes(2))) struct FencingActionsTests {
    static func registry(_ lab: FencingLab) throws -> StepActionRegistry {
        let configuration = try AgentConfiguration.parse(yaml: """
            site: dc-b
            data_dir: \(lab.directory.path)
            sites:
              dc-a: { bootstrap: "\(lab.bootstrap(FencingLab.a))", agent: "http://127.0.0.1:7071" }
              dc-b: { bootstrap: "\(lab.bootstrap(FencingLab.b))", agent: "http://127.0.0.1:7072" }
            witnesses:
              witness: { agent: "http://127.0.0.1:7073" }
            auth:
              peer_secret: { env: PEER }
              operator_token: { env: TOKEN }
            mirror:
              topics: { include: ["orders"] }
            """, secrets: SecretResolver(environment: ["PEER": "0123456789abcdef0123456789abcdef", "TOKEN": "token-for-tests-0123456789"]))
        return try StepActionRegistry(FencingActions(configuration: configuration).all)
    }

    static func context(_ parameters: StepParameters, epoch: UInt64 = 4) -> StepContext {
        StepContext(runID: "test", runbook: "failback", step: "s", parameters: parameters, epoch: Epoch(epoch))
    }

    @Test func fenceUnfenceAndReconcileThroughTheRegistry() async throws {
        try await withFencingLab { lab in
            try await lab.createTopic("orders", at: FencingLab.a)
            try await lab.createTopic("audit", at: FencingLab.a)
            let registry = try Self.registry(lab)
            let fence = try #require(registry.action(named: "fence-site"))
            let unfence = try #require(registry.action(named: "unfence-site"))
            let reconcile = try #require(registry.action(named: "reconcile"))

            let plan = try await fence.plan(Self.context(["site": "dc-a"]))
            #expect(plan.ready && plan.changes == ["orders: min.insync.replicas (default) → 2"])
            #expect(try await lab.acksAllRefusal("orders", at: FencingLab.a) == nil, "the plan fenced")

            // Reconcile before the fence: the plan says why it cannot run; the run refuses.
            let early = try await reconcile.plan(Self.context(["from": "dc-a"]))
            #expect(!early.ready && early.checks.map(\.name) == ["not-fenced"])
            await #expect(throws: StepActionError.self) { try await reconcile.run(Self.context(["from": "dc-a", "to": "dc-b"])) }

            let fenced = try await fence.run(Self.context(["site": "dc-a"]))
            #expect(fenced.outputs["topics"] == "orders" && fenced.outputs["state"] == "fenced")
            #expect(try await lab.acksAllRefusal("orders", at: FencingLab.a)?.code == .notEnoughReplicas)
            // Only the selected topic is fenced.
            #expect(try await lab.acksAllRefusal("audit", at: FencingLab.a) == nil)

            do {
                _ = try await unfence.run(Self.context(["site": "dc-a"], epoch: 3))
                Issue.record("an older epoch's unfence ran")
            } catch let error as StepActionError {
                #expect(error.code == .staleEpoch && !error.retriable)
            }
            await #expect(throws: StepActionError.self) { try await fence.run(Self.context(["site": "dc-z"])) }
            _ = try await unfence.run(Self.context(["site": "dc-a"]))
            #expect(try await lab.acksAllRefusal("orders", at: FencingLab.a) == nil)
        }
    }
}
