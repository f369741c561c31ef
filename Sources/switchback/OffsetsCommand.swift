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

            With --from-checkpoints, the positions come from the group checkpoints the flow \
            --from → --to stored at --to (its checkpoint topic, then the local file under \
            data_dir), so it works with the --from cluster down: run it at the --to site after \
            an unplanned failover. Checkpoints older than --max-age (default \
            mirror.checkpoint_max_age) are reported and not used.

            Examples:
              switchback offsets translate --config agent-dc-b.yaml --from dc-a --to dc-b --dry-run
              switchback offsets translate --config agent-dc-b.yaml --from dc-a --to dc-b --from-checkpoints
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

    @Flag(help: "Use the group checkpoints stored at --to instead of asking --from (which may be down).")
    var fromCheckpoints = false

    @Option(help: "With --from-checkpoints: the oldest checkpoint used, e.g. 30s (default mirror.checkpoint_max_age).")
    var maxAge: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        guard from != to else { throw ValidationError("--from and --to are both \(from); name two different sites") }
        if fromCheckpoints && reverse {
            throw ValidationError("--from-checkpoints positions groups at the flow's target; it cannot be combined with --reverse")
        }
        if maxAge != nil && !fromCheckpoints { throw ValidationError("--max-age applies only with --from-checkpoints") }
        if let maxAge, DurationText.parse(maxAge).map({ $0 > .zero }) != true {
            throw ValidationError("--max-age '\(maxAge)' is not a positive duration; write it like 30s, 2m or 500ms")
        }
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
        let result: GroupTranslationResult
        if fromCheckpoints {
            let bound = maxAge.flatMap(DurationText.parse) ?? flow.checkpointMaxAge
            result = try await service.translateFromCheckpoints(dryRun: dryRun, maxAge: bound, groups: groupIDs)
        } else {
            result = try await service.translate(direction: reverse ? .failback : .failover, dryRun: dryRun, groups: groupIDs)
        }
        print(result)
        if !result.commitFailures.isEmpty || !result.groupErrors.isEmpty || !result.staleCheckpoints.isEmpty {
            throw ExitCode(1)
        }
    }
}
