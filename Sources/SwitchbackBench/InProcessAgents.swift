import AgentServer
import Logging
import ServiceLifecycle

/// The three agents of a layout running in this process, each under its own `ServiceGroup`
/// as `switchback agent` runs it, talking to each other over loopback HTTP.
struct InProcessAgents {
    private var groups: [ServiceGroup] = []
    private var running: [Task<Void, any Error>] = []

    static func start(_ layout: AgentLayout, clusters: SiteClusters, logger: Logger) throws -> InProcessAgents {
        var agents = InProcessAgents()
        for name in AgentLayout.names {
            let configuration = try layout.configuration(name, clusters: clusters)
            let agent = Agent(configuration: configuration, logger: logger)
            let group = ServiceGroup(services: [agent], logger: logger)
            agents.groups.append(group)
            agents.running.append(Task { try await group.run() })
        }
        return agents
    }

    /// Shuts every agent down gracefully and waits for them.
    func stop() async {
        for group in groups { await group.triggerGracefulShutdown() }
        for task in running { _ = try? await task.value }
    }
}
