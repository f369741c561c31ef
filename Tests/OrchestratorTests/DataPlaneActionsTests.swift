import Consensus
import Orchestrator
import Sites
import SwitchbackConfiguration
import Synchronization
import Testing

/// The agent's data-plane actions over a recording ``DataPlaneControl``: what each asks which
/// site's agent to do, and that the agent's registry holds every action the shipped runbooks name
/// with the parameters they pass.
@Suite struct DataPlaneActionsTests {
    /// Records the commands; `requestSwitchover` commits the move, as the election would.
    final class FakeControl: DataPlaneControl {
        let memberSites: [SiteID] = [SiteID("dc-a"), SiteID("dc-b")]
        let state: Mutex<(config: SiteConfig, commands: [(DataPlaneCommand, SiteID)], requests: Int)>

        init(config: SiteConfig) { state = Mutex((config, [], 0)) }

        func committed() -> SiteConfig { state.withLock { $0.config } }
        func probe(_ site: SiteID) -> ProbeReading? { ProbeReading(healthy: true, detail: "healthy") }
        func perform(_ command: DataPlaneCommand, at site: SiteID) async throws(StepActionError) -> DataPlaneReply {
            state.withLock { $0.commands.append((command, site)) }
            return DataPlaneReply(summary: "\(command) at \(site)", outputs: command.verb == .flowLag ? ["lag": "0"] : [:])
        }
        func requestSwitchover(to site: SiteID) async -> [String] {
            state.withLock { state in
                state.requests += 1
                state.config = SiteConfig(
                    epoch: Epoch(state.config.epoch.rawValue + 1), activeSite: site,
                    mirrorDirection: MirrorDirection(from: site, to: state.config.activeSite), cause: .operatorSwitchover)
            }
            return ["operator switchover to \(site)"]
        }
    }

    static func actions(_ control: FakeControl) throws -> DataPlaneActions {
        let configuration = try AgentConfiguration.parse(yaml: """
            site: dc-b
            data_dir: /tmp/switchback-dataplane-actions-test
            sites:
              dc-a: { bootstrap: "127.0.0.1:1", agent: "http://127.0.0.1:7071" }
              dc-b: { bootstrap: "127.0.0.1:2", agent: "http://127.0.0.1:7072" }
            witnesses:
              witness: { agent: "http://127.0.0.1:7073" }
            auth:
              peer_secret: { env: PEER }
              operator_token: { env: TOKEN }
            mirror:
              topics: { include: ["orders"] }
            """, secrets: SecretResolver(environment: ["PEER": "0123456789abcdef0123456789abcdef", "TOKEN": "token-for-tests-0123456789"]))
        return DataPlaneActions(control: control, fencing: FencingActions(configuration: configuration))
    }

    static let initial = SiteConfig.initial(activeSite: SiteID("dc-a"), standbySite: SiteID("dc-b"))

    static func context(_ values: [String: String], epoch: Epoch = .initial) -> StepContext {
        StepContext(runID: "test", runbook: "planned-switchover", step: "s", parameters: StepParameters(values), epoch: epoch, timeout: .seconds(5))
    }

    @Test("the agent's registry lacks no action, and every shipped runbook loads with the parameters it passes")
    func registryIsComplete() throws {
        let registry = try Self.actions(FakeControl(config: Self.initial)).registry(sink: { _ in })
        #expect(registry.missing() == [])
        let runbooks = try RunbookLoader(registry: registry).loadDirectory(shippedRunbooks)
        #expect(Set(runbooks.map(\.name)).isSuperset(of: ["planned-switchover", "failback", "unplanned-failover", "reconcile", "dr-drill"]))
    }

    @Test("promote commits the move once and hands the new epoch to the later steps; run again, it finds it done")
    func promoteCommitsOnce() async throws {
        let control = FakeControl(config: Self.initial)
        let registry = try Self.actions(control).registry(sink: { _ in })
        let promote = try #require(registry.action(named: "promote"))
        let outcome = try await promote.run(Self.context(["site": "dc-b"]))
        #expect(outcome.epoch == Epoch(1))
        let again = try await promote.run(Self.context(["site": "dc-b"]))
        #expect(again.epoch == Epoch(1))
        #expect(control.state.withLock { $0.requests } == 1)
        // Another site won meanwhile: a stale epoch, not a second move.
        await #expect(throws: StepActionError.self) { try await promote.run(Self.context(["site": "dc-a"])) }
    }

    @Test("announce switching reaches the named site's agent first, then every other member's; flow steps go to the flow's target")
    func commandsGoWhereTheyBelong() async throws {
        let control = FakeControl(config: Self.initial)
        let registry = try Self.actions(control).registry(sink: { _ in })
        _ = try await #require(registry.action(named: "announce")).run(Self.context(["site": "dc-a", "state": "switching"]))
        _ = try await #require(registry.action(named: "wait-mirror-caught-up")).run(Self.context(["from": "dc-a", "to": "dc-b"]))
        _ = try await #require(registry.action(named: "stop-flow")).run(Self.context(["from": "dc-a", "to": "dc-b"]))
        let sent = control.state.withLock { $0.commands.map { "\($0.0.verb.rawValue)@\($0.1)" } }
        #expect(sent == ["announce@dc-a", "announce@dc-b", "flow-lag@dc-b", "stop-flow@dc-b"])
        let stop = try #require(control.state.withLock { $0.commands.last?.0 })
        #expect(stop.drainWithin != nil)
        await #expect(throws: StepActionError.self) {
            try await registry.action(named: "stop-flow")!.run(Self.context(["from": "dc-a", "to": "dc-c"]))
        }
    }
}
