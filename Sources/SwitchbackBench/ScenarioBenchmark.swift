import ArgumentParser
import AsyncHTTPClient
import Foundation
import Sandbox

/// `switchback-bench scenario`: a sandbox scenario run many times, each on a fresh lab, with the
/// failover time and records-at-risk percentiles and the outcome counts at the end (issues 9
/// and 12).
struct ScenarioBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Run a sandbox scenario many times on fresh labs; print failover time and records-at-risk percentiles and the outcomes.",
        discussion: """
            Each run is `switchback sandbox --scenario NAME` in this process: two LocalKafka \
            brokers (dc-a, dc-b) and three agents (dc-a, dc-b, witness) as child processes of the \
            `switchback` executable, fast detection timings (probe 250ms, down_after 1s, lease \
            2s), a producer and a committing consumer group that follow the sidecar, and an outside \
            observer polling every agent for split brain. Nothing is shared between runs: every run \
            gets new brokers, agents, ports, secrets and a new directory.

            One line per run: PASSED or FAILED, the failover time (the fault to the new site \
            answering active alone), records acknowledged, lost (acknowledged and never \
            delivered), delivered twice, recovered by reconcile, at risk at the failure \
            (acknowledged at the failed site and not at the new one when it began to serve; the \
            agent's own figure in brackets) and split-brain intervals; a failed run says why. \
            At the end: failover time and records at risk p50/p99/max over the runs that \
            measured them, and how many runs passed and failed, and why.

            Progress goes to standard error, the run lines and the table to standard output. \
            Build everything first (`swift build`): the labs run the `switchback` executable \
            next to this one unless --switchback names another. The figures depend on the build \
            (debug or release) and on the machine's load; the table says which build ran. \
            Exits 1 when a run failed.
            """
    )

    @Option(help: "The scenario: \(Scenario.all.map(\.name).joined(separator: ", ")).")
    var scenario = Scenario.failoverFailback.name

    @Option(help: "How many runs, each on a fresh lab.")
    var runs = 20

    @Option(help: "Records per second the workload's producer writes.")
    var rate: Double = SandboxRunner.Options.defaultRate

    @Option(help: "The switchback executable the labs run (default: the one next to switchback-bench).")
    var switchback: String?

    @Option(help: "A directory to write each run's JSON report to (run-01.json, …).")
    var reports: String?

    @Flag(help: "Keep the directory (logs, configurations, data) of every failed run and print where it is.")
    var keepFailed = false

    func validate() throws {
        guard Scenario.named(scenario) != nil else {
            throw ValidationError("--scenario \(scenario) is not a scenario; use one of: \(Scenario.all.map(\.name).joined(separator: ", "))")
        }
        guard runs > 0 else { throw ValidationError("--runs \(runs): give at least 1") }
        guard rate > 0, rate <= 20_000 else { throw ValidationError("--rate \(rate): use between 1 and 20000 records per second") }
    }

    func run() async throws {
        guard let scenario = Scenario.named(scenario) else { throw ExitCode.validationFailure }
        let executable = try Self.switchbackExecutable(switchback)
        if let reports { try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true) }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchback-bench-scenario-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { if !keepFailed { try? FileManager.default.removeItem(at: base) } }
        printNow("scenario \(scenario.name): \(scenario.summary)")
        printNow("\(runs) runs on fresh labs at \(TextTable.format(rate, decimals: 0)) records/s, \(ScenarioTable.build) build, agents from \(executable)\n")
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var trials = ScenarioTrials()
        let started = ContinuousClock.now
        for number in 1...runs {
            let label = "run \(number)/\(runs)"
            let directory = base.appendingPathComponent(String(format: "run-%02d", number), isDirectory: true)
            let progress: @Sendable (String) -> Void = { line in
                progressLine("[\(label) +\(TextTable.format((ContinuousClock.now - started).secondsValue, decimals: 0)) s] \(line)")
            }
            let outcome = await Self.runOnce(scenario, in: directory, executable: executable, rate: rate, http: http, progress: progress)
            trials.add(outcome)
            if let reports, case .report(let report) = outcome {
                try report.json().write(to: URL(fileURLWithPath: reports).appendingPathComponent(String(format: "run-%02d.json", number)))
            }
            let failed = ScenarioTrials.reasons(outcome).isEmpty == false
            if failed && keepFailed {
                progress("kept \(directory.path) (logs of the brokers and agents)")
            } else {
                try? FileManager.default.removeItem(at: directory)
            }
            printNow(ScenarioTable.line(outcome, label: label))
        }
        try? await http.shutdown()
        printNow("\n" + ScenarioTable(scenario: scenario.name, rate: rate, trials: trials).rendered)
        if trials.failed > 0 { throw ExitCode(1) }
    }

    /// Starts a fresh lab under `directory`, runs the scenario, stops everything.
    static func runOnce(
        _ scenario: Scenario, in directory: URL, executable: String, rate: Double, http: HTTPClient,
        progress: @escaping @Sendable (String) -> Void
    ) async -> ScenarioTrials.Outcome {
        let session: SandboxSession
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let layout = LabLayout(directory: directory, agentPorts: try LabLayout.freeAgentPorts(), timings: LabTimings())
            progress("starting a fresh lab in \(directory.path)")
            session = try await SandboxSession.start(layout: layout, executable: executable, http: LabHTTP(client: http), rate: rate, progress: progress)
        } catch {
            progress("the lab did not start: \(error)")
            return .notStarted("\(error)")
        }
        let report = await ScenarioRunner(scenario: scenario, progress: progress).run(session)
        progress("stopping the workload, the agents and the brokers")
        await session.stop()
        return .report(report)
    }

    /// The `switchback` executable: `path` when given, else the one beside this executable.
    static func switchbackExecutable(_ path: String?) throws -> String {
        let candidate = path ?? Bundle.main.executableURL.map { $0.deletingLastPathComponent().appendingPathComponent("switchback").path } ?? "switchback"
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw ValidationError(
                "no switchback executable at \(candidate): build it first (`swift build`, or `swift build --product switchback`) or name one with --switchback")
        }
        return candidate
    }
}

/// A progress line on standard error, whole.
private func progressLine(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
