import AgentServer
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SwitchbackConfiguration

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run a site agent (or a witness): election, cluster probes, webhook alerts and the HTTP API.",
        discussion: """
            The configuration file is validated completely before anything starts; an error names
            the key, the bad value and the fix. Secrets are read from the environment variables and
            files the configuration names. SIGTERM or SIGINT drains the HTTP API and stops cleanly.

            Example:
              SWITCHBACK_PEER_SECRET=… SWITCHBACK_TOKEN=… switchback agent --config /etc/switchback/agent.yaml
            """
    )

    @Option(help: "The agent's YAML configuration file (see deploy/examples/agent-dc-a.yaml).")
    var config: String

    @Option(help: "The directory of runbooks (NAME.yaml) the agent runs; default $SWITCHBACK_RUNBOOKS, ./Runbooks, the build's repository, /usr/share/switchback/runbooks.")
    var runbooks: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Flag(
        help:
            "Start as a voter that lost its election state (after moving a corrupted election.json aside): refuse votes and lease grants until caught up with a majority and every old lease is over."
    )
    var rejoin = false

    func run() async throws {
        let configuration = try loadConfiguration(config, command: "agent")
        // The key must match the certificate: a configuration mistake, so exit 2 naming
        // `tls.private_key` now rather than fail once the agent is starting.
        do {
            _ = try configuration.tls.map { settings throws(ConfigurationError) in try AgentTLS(settings) }
        } catch {
            throw failure("agent", config, error)
        }
        bootstrapLogging(level: logLevel)
        let logger = Logger(label: "switchback.agent")
        let agent = Agent(configuration: configuration, logger: logger, rejoin: rejoin, runbooksDirectory: runbooks)
        let group = ServiceGroup(
            configuration: .init(services: [agent], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
