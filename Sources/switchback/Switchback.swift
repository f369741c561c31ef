import ArgumentParser

/// The `switchback` command line: a thin layer that parses arguments and calls library code.
@main
struct Switchback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchback",
        abstract: "Keeps Kafka applications running when a datacenter fails.",
        discussion: """
            Agents run beside each Kafka cluster (plus a witness in a third place), elect the \
            active site by majority vote, tell applications which cluster is active and send \
            webhook alerts. The mirror copies topics to the standby with an exact offset map, and \
            `switchback offsets translate` moves consumer groups on failover and failback.
            """,
        version: SwitchbackVersion.current,
        subcommands: [VersionCommand.self, SandboxCommand.self, DemoCommand.self, BrokerCommand.self, AgentCommand.self, StatusCommand.self, MaintenanceCommand.self, AcknowledgeCommand.self, FailoverCommand.self, MirrorCommand.self, OffsetsCommand.self, RunbookCommand.self]
    )
}
