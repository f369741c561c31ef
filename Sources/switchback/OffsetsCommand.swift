import ArgumentParser
import Foundation
import Logging
import Mirror
import Sites
import SwitchbackConfiguration

struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Translate consumer group positions between sites through the exact offset map.",
        subcommands: [TranslateOffsetsCommand.self]
    )
}

struct TranslateOffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Move consumer groups' committed positions from one site's cluster to another's.",
        discussion: """
            For every selected group with committed offsets at --from, finds the exact \
            equivalent position at --to through the offset map of the flow that copied the data, \
            and commits it at --to. Groups with active members at --to are skipped (their \
            consumers own their positions there); every group and partition is reported with \
            what was done or why it was skipped, including records at risk (accepted at --from \
            but never copied).

            The map is the one of the flow --from → --to (failover direction). After a failover, \
            to move groups back through the same map, pass --reverse: the flow --to → --from is \
            used in the failback direction.

            Examples:
              switchback offsets translate --config agent-dc-b.yaml --from dc-a --to dc-b --dry-run
              switchback offsets translate --config agent-dc-b.yaml --from dc-a --to dc-b --group billing
            """
    )

    @Option(help: "The agent's YAML configuration file: the sites' clusters and the mirror selection.")
    var config: String

    @Option(help: "The site whose committed positions are translated.")
    var from: String

    @Option(help: "The site where the translated positions are committed.")
    var to: String

    @Option(name: .customLong("group"), help: "Translate only this group (repeat for several). Default: every selected group.")
    var groups: [String] = []

    @Flag(help: "Use the map of the flow --to → --from, read backwards (moving groups back after a failover).")
    var reverse = false

    @Flag(help: "Report what would be committed; change nothing.")
    var dryRun = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        guard from != to else { throw ValidationError("--from and --to are both \(from); name two different sites") }
    }

    func run() async throws {
        let configuration = try loadConfiguration(config, command: "offsets translate")
        let route: FlowRoute
        do {
            let (source, target) = reverse ? (to, from) : (from, to)
            route = FlowRoute(from: try SiteID(validating: source), to: try SiteID(validating: target))
        } catch {
            throw ValidationError("\(error)")
        }
        let flow: FlowConfiguration
        do {
            flow = try configuration.flowConfiguration(route)
        } catch {
            throw failure("offsets translate", config, error)
        }
        bootstrapLogging(level: logLevel)
        let service = OffsetTranslationService(configuration: flow, logger: Logger(label: "switchback.offsets"))
        var groupIDs: [ConsumerGroupID]?
        if !groups.isEmpty {
            groupIDs = try groups.map { name in
                guard let id = ConsumerGroupID(rawValue: name) else {
                    throw ValidationError("--group '\(name)' is not a valid consumer group id")
                }
                return id
            }
        }
        let result = try await service.translate(direction: reverse ? .failback : .failover, dryRun: dryRun, groups: groupIDs)
        print(result)
        if !result.commitFailures.isEmpty || !result.groupErrors.isEmpty {
            throw ExitCode(1)
        }
    }
}
