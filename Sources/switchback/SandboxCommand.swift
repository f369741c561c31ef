import ArgumentParser
import Foundation
import Sandbox

#if canImport(Glibc)
import Glibc
#endif

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run two clusters, three agents and a workload on this machine, and watch a failover.",
        discussion: """
            Starts two LocalKafka clusters (dc-a, dc-b) and three agents (dc-a, dc-b, witness) as \
            child processes on free loopback ports (the agents run the mirror flows), and a workload that follows \
            the sidecar like an application: a producer of numbered keyed records and a consumer \
            group that commits as it reads. Every acknowledged and every delivered record is \
            counted: lost = acknowledged, never delivered; delivered twice = more than once. An \
            outside observer polls every agent 20 times a second for two sites active at once.

            On a terminal it shows a dashboard with keys to fail a site, heal, pause an agent, \
            partition, switch over, fail back and run a DR drill. Without a terminal (CI, pipes), \
            or with --scenario, it runs a scenario unattended, prints one status line per second on \
            standard error and a summary on standard output, and exits 0 when nothing was lost, \
            nothing delivered twice beyond what the scenario allows and no split brain was seen \
            (1 otherwise, 2 when it could not run). Without a terminal and without --scenario it \
            runs failover-failback.

            Scenarios: failover-failback, switchover, partition.

            Ctrl-C stops everything cleanly; a second Ctrl-C kills. Children never outlive the \
            sandbox. The directory (logs, configurations, data) is removed unless --keep.

            Examples:
              switchback sandbox
              switchback sandbox --scenario failover-failback --report r.json
            """
    )

    @Option(help: "Unattended: run this scenario (failover-failback, switchover, partition) and exit.")
    var scenario: String?

    @Option(help: "Write the scenario's JSON report to this file.")
    var report: String?

    @Option(help: "Directory for the clusters, agents and logs (default: a fresh temporary one).")
    var dir: String?

    @Flag(help: "Keep the directory afterwards.")
    var keep = false

    @Option(help: "Records per second the workload's producer writes.")
    var rate: Double = SandboxRunner.Options.defaultRate

    func validate() throws {
        if let scenario, Scenario.named(scenario) == nil {
            throw ValidationError("--scenario \(scenario) is not a scenario; use one of: \(Scenario.all.map(\.name).joined(separator: ", "))")
        }
        guard rate > 0, rate <= 20_000 else { throw ValidationError("--rate \(rate): use between 1 and 20000 records per second") }
        if report != nil && scenario == nil && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 {
            throw ValidationError("--report needs --scenario (the dashboard writes no report)")
        }
    }

    func run() async throws {
        guard let executable = Bundle.main.executableURL?.path else {
            throw ValidationError("cannot find this executable's path to start the brokers and agents from it")
        }
        var options = SandboxRunner.Options(
            executable: executable, interactive: isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1)
        options.directory = dir
        options.keep = keep
        options.scenario = scenario
        options.reportPath = report
        options.rate = rate
        let code = await SandboxRunner(options: options).run()
        if code != 0 { throw ExitCode(code) }
    }
}
