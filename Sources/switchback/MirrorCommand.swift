import ArgumentParser
import Foundation
import Logging
import Mirror
import Orchestrator
import ServiceLifecycle
import SwitchbackConfiguration

struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Run the mirror flows into this site, without the election (standalone).",
        discussion: """
            Copies the selected topics from the other site's cluster into this site's cluster, \
            with provenance headers, exactly-once resume and an exact offset map kept at this \
            site. It uses the same configuration file as `switchback agent`: `site`, `sites`, \
            `data_dir` and the `mirror` section. With `mirror.flows: auto` the flow comes from \
            the other member site; with a list, every flow whose `to` is this site runs.

            Beside each flow, its group checkpointer stores the selected groups' translated \
            positions at this site every mirror.checkpoint_interval, for `switchback offsets \
            translate --from-checkpoints` after an unplanned failover. data_dir is created when \
            missing.

            SIGTERM or SIGINT stops the flows cleanly; a restart resumes exactly where they \
            stopped.

            Example:
              switchback mirror --config /etc/switchback/agent-dc-b.yaml
            """
    )

    @Option(help: "The agent's YAML configuration file (see deploy/examples/agent-dc-b.yaml).")
    var config: String

    @Option(help: "Copy from this site only (default: every flow into this site).")
    var from: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let configuration = try loadConfiguration(config, command: "mirror")
        let flows: [FlowConfiguration]
        do {
            var routes = try configuration.flowsIntoThisSite()
            if let from {
                routes = routes.filter { $0.from.rawValue == from }
                guard !routes.isEmpty else {
                    throw ValidationError("--from \(from): no configured flow from \(from) into \(configuration.name)")
                }
            }
            flows = try routes.map { route throws(ConfigurationError) in try configuration.flowConfiguration(route) }
        } catch let error as ConfigurationError {
            throw failure("mirror", config, error)
        }
        try createDataDirectory(configuration.dataDirectory)
        // The agent of this site runs these flows itself and holds the same lock: two writers
        // of one flow would interleave their copies on the target.
        let lock: MirrorLock
        do {
            lock = try MirrorLock(dataDirectory: configuration.dataDirectory, holder: "switchback mirror \(configuration.name)")
        } catch {
            throw ValidationError("\(error)")
        }
        bootstrapLogging(level: logLevel)
        let logger = Logger(label: "switchback.mirror")
        var services: [any Service] = []
        for configuration in flows {
            logger.info("starting flow", metadata: [
                "flow": "\(configuration.flow)", "offset-map": "\(configuration.offsetMapTopic)",
                "checkpoints": "\(configuration.checkpointTopic)",
            ])
            let flow = Flow(configuration: configuration, logger: logger)
            services.append(flow)
            services.append(GroupCheckpointer(flow: flow, logger: logger))
        }
        let group = ServiceGroup(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
        withExtendedLifetime(lock) {}
    }
}

/// Creates `data_dir` (and its parents) when missing, as `switchback agent` does: the offset map
/// and the checkpoints are kept there. Exits with status 2 and the reason when it cannot.
func createDataDirectory(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            FileHandle.standardError.write(Data("switchback mirror: data_dir \(path) is a file, not a directory; point data_dir at a directory\n".utf8))
            throw ExitCode(2)
        }
        return
    }
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        let reason = underlying.map { String(cString: strerror(Int32($0.code))) } ?? error.localizedDescription
        FileHandle.standardError.write(Data(
            "switchback mirror: cannot create data_dir \(path): \(reason); create it, or point data_dir at a writable directory\n".utf8))
        throw ExitCode(2)
    }
}
