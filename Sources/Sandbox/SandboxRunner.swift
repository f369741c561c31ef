import AsyncHTTPClient
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `switchback sandbox` as a whole: makes the directory, starts the session, runs a scenario
/// or the dashboard, stops everything and removes the directory unless asked to keep it.
///
/// Ctrl-C (SIGINT) or SIGTERM stops everything cleanly; a second one kills every child at
/// once. Children die with the sandbox in any case (see ``ChildProcess``).
public struct SandboxRunner: Sendable {
    public struct Options: Sendable {
        /// `nil`: a fresh temporary directory.
        public var directory: String?
        public var keep = false
        /// `nil`: the dashboard on a terminal, the `failover-failback` scenario without one.
        public var scenario: String?
        public var reportPath: String?
        public var rate: Double = Self.defaultRate
        /// The workload's records per second unless told otherwise.
        public static let defaultRate: Double = 200
        /// The `switchback` executable the children run.
        public var executable: String
        /// Whether standard input and output are a terminal.
        public var interactive: Bool

        public init(executable: String, interactive: Bool) {
            self.executable = executable
            self.interactive = interactive
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Runs to the end; the process's exit status (0 passed, 1 a check failed, 2 could not run,
    /// 130 interrupted).
    public func run() async -> Int32 {
        let errorOutput = StandardError()
        let directory: URL
        do {
            directory = try makeDirectory()
        } catch {
            errorOutput.line("switchback sandbox: \(error)")
            return 2
        }
        let interrupts = InterruptHandling()
        defer {
            if !options.keep { try? FileManager.default.removeItem(at: directory) }
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let session = SessionSlot()
        let work = Task { () -> Int32 in
            do {
                let layout = LabLayout(directory: directory, agentPorts: try LabLayout.freeAgentPorts(), timings: LabTimings())
                errorOutput.line("sandbox directory: \(directory.path)" + (options.keep ? " (kept)" : " (removed at the end; --keep keeps it)"))
                let started = try await SandboxSession.start(
                    layout: layout, executable: options.executable, http: LabHTTP(client: http),
                    rate: options.rate, progress: { errorOutput.line($0) })
                session.set(started)
                let code = await runMode(started, errorOutput: errorOutput)
                errorOutput.line("stopping the workload, the agents and the brokers…")
                await started.stop()
                // Interrupted: the conventional status of a process ended by SIGINT.
                return Task.isCancelled ? 130 : code
            } catch {
                if let started = session.value { await started.stop() }
                errorOutput.line("switchback sandbox: \(error)")
                return 2
            }
        }
        interrupts.install(
            first: { errorOutput.line("stopping (Ctrl-C again to kill)…"); work.cancel() },
            second: { session.value?.kill(); exit(130) })
        let code = await work.value
        interrupts.uninstall()
        try? await http.shutdown()
        return code
    }

    private func makeDirectory() throws -> URL {
        let url: URL
        if let directory = options.directory {
            url = URL(fileURLWithPath: directory, isDirectory: true)
            if let contents = try? FileManager.default.contentsOfDirectory(atPath: url.path), !contents.isEmpty {
                throw SandboxError("--dir \(directory) is not empty; give a new or empty directory (the sandbox starts fresh clusters)")
            }
        } else {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("switchback-sandbox-\(UUID().uuidString.prefix(8))", isDirectory: true)
        }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private func runMode(_ session: SandboxSession, errorOutput: StandardError) async -> Int32 {
        if options.scenario == nil && options.interactive {
            return await Dashboard(session: session).run()
        }
        let name = options.scenario ?? Scenario.failoverFailback.name
        guard let scenario = Scenario.named(name) else { return 2 }
        let lines = Task {
            var previous: StatusSnapshot?
            while !Task.isCancelled {
                let snapshot = StatusSnapshot.take(session, status: await LabStatus.read(session.lab), previous: previous)
                errorOutput.line(snapshot.line)
                previous = snapshot
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let report = await ScenarioRunner(scenario: scenario, progress: { errorOutput.line($0) }).run(session)
        lines.cancel()
        await lines.value
        let summary = Self.summary(report)
        if let path = options.reportPath {
            do {
                try report.json().write(to: URL(fileURLWithPath: path))
                errorOutput.line("report written to \(path)")
            } catch {
                errorOutput.line("switchback sandbox: cannot write the report to \(path): \(error)")
                return 2
            }
        }
        print(summary)
        return report.passed ? 0 : 1
    }

    /// The records at risk, with what they are out of and the agent's own figure.
    static func atRiskSummary(_ records: SandboxReport.Records) -> String {
        if let risk = records.atRisk {
            return "\(risk.count) (of \(risk.acknowledgedAtFailedSite) acknowledged at \(risk.failedSite), not at \(risk.newSite) "
                + String(format: "%.1f s after the fault", risk.measuredAfterSeconds) + "; agent \(risk.newSite) reported "
                + (risk.reportedByAgent.map(String.init) ?? "none") + ")"
                + (risk.byPartition.isEmpty ? "" : " " + risk.byPartition.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        }
        return records.atRiskError.map { "not measured: \($0)" } ?? "— (no unplanned failover)"
    }

    static func summary(_ report: SandboxReport) -> String {
        var lines = [
            "scenario \(report.scenario) (\(Int(report.rate)) records/s): \(report.passed ? "PASSED" : "FAILED")",
            "  failover time: " + (report.failoverSeconds.map { String(format: "%.2f s", $0) } ?? "—"),
            "  acknowledged \(report.records.acknowledged), delivered \(report.records.delivered), lost \(report.records.lost), delivered twice \(report.records.deliveredTwice) "
                + "(" + report.records.deliveredTwiceByPhase.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)/\(report.records.allowedDuplicatesByPhase[$0.key] ?? 0) allowed" }.joined(separator: ", ") + ")",
            "  recovered by reconcile \(report.records.recoveredByReconcile), refused sends \(report.records.refused)",
            "  records at risk at the failure: " + atRiskSummary(report.records),
            "  split-brain intervals \(report.splitBrain.intervals.count), epoch regressions \(report.splitBrain.epochRegressions.count) (\(report.splitBrain.polls) polls)",
        ]
        for step in report.steps {
            lines.append(String(format: "  %7.1fs  %-40@ %6.1f s", step.startSeconds, step.name as NSString, step.durationSeconds) + (step.error.map { "  FAILED: \($0)" } ?? ""))
        }
        for problem in report.problems { lines.append("  problem: \(problem)") }
        return lines.joined(separator: "\n")
    }
}

/// Lines to standard error, whole lines at a time.
struct StandardError: Sendable {
    func line(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
}

/// The first SIGINT/SIGTERM asks for a clean stop, the second kills.
final class InterruptHandling: @unchecked Sendable {
    // @unchecked: `sources` is written by install and read by uninstall, both on the
    // runner's task; the signal handlers touch only `count`, which is locked.
    private var sources: [any DispatchSourceSignal] = []
    private let count = Mutex(0)

    func install(first: @escaping @Sendable () -> Void, second: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let seen = self.count.withLock { value in
                    value += 1
                    return value
                }
                if seen == 1 { first() } else { second() }
            }
            source.resume()
            sources.append(source)
        }
    }

    func uninstall() {
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// The session once it has started, for the second Ctrl-C.
final class SessionSlot: Sendable {
    private let session = Mutex<SandboxSession?>(nil)
    var value: SandboxSession? { session.withLock { $0 } }
    func set(_ value: SandboxSession) { session.withLock { $0 = value } }
}
