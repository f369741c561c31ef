import Alerts
import Consensus
import Foundation
import Logging
import Orchestrator
import ServiceLifecycle

/// The agent's runbook engine as a `Service`: at start it resumes a run the agent was killed in
/// the middle of (its journal under `<data_dir>/runbooks/`); at graceful shutdown it stops
/// driving the run, whose journal stays unfinished so the next start resumes it.
struct RunbookService: Service {
    let runner: RunbookRunner
    let logger: Logger

    func run() async throws {
        do {
            if let resumed = try await runner.resumeInterrupted() {
                logger.notice("resumed an interrupted runbook run", metadata: ["run": "\(resumed.runID)", "step": "\(resumed.currentStep ?? "-")"])
            }
        } catch {
            // A journal that cannot be read is the operator's to look at; new runs still work.
            logger.error("cannot resume the interrupted runbook run", metadata: ["error": "\(error)"])
        }
        // Until graceful shutdown (or cancellation), then the run stops where it is.
        try? await gracefulShutdown()
        await runner.shutdown()
    }
}

/// How the runbook engine reaches the audit log and the alert outbox.
enum AgentRunbooks {
    /// Every notice becomes an audit entry of kind `runbook.<kind>`; those marked `alert` are
    /// also raised as alerts (critical ones as critical warnings).
    static func sink(audit: AuditLog, alerts: AlertDispatcher?, agent: String, site: String?) -> RunbookNoticeSink {
        { notice in
            let step = notice.step.map { " [\($0)]" } ?? ""
            let message = "\(notice.runbook) \(notice.runID)\(step): \(notice.message)"
            audit.append(AuditEntry(time: notice.time, agent: agent, epoch: notice.epoch.rawValue, kind: "runbook.\(notice.kind.rawValue)", message: message))
            guard notice.alert, let alerts else { return }
            let severity: AlertSeverity
            switch notice.severity {
            case .info: severity = .info
            case .warning: severity = .warning
            case .critical: severity = .critical
            }
            alerts.raise(Alert(
                kind: notice.severity == .info ? .operatorAction : .warning, severity: severity, agent: agent, site: site,
                epoch: notice.epoch.rawValue, message: message, time: notice.time))
        }
    }

    /// Where the agent reads runbooks when `--runbooks` is not given: `$SWITCHBACK_RUNBOOKS`,
    /// else `Runbooks/` in the working directory, else the repository's `Runbooks/` beside a
    /// build (`.build/debug/switchback`), else the installed `/usr/share/switchback/runbooks`.
    static func defaultDirectory() -> String {
        if let given = ProcessInfo.processInfo.environment["SWITCHBACK_RUNBOOKS"], !given.isEmpty { return given }
        var candidates = [FileManager.default.currentDirectoryPath + "/Runbooks"]
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("Runbooks").path)
        }
        candidates.append("/usr/share/switchback/runbooks")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/planned-switchover.yaml") } ?? candidates[0]
    }
}
