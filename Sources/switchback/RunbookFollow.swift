import AgentServer
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Orchestrator

/// Starts a run on the agent and prints its steps as they progress until it ends (or prints
/// the plan of a dry run). Shared by `runbook run` and `failover --planned`.
enum RunbookFollow {
    /// How often the status is polled while following a run.
    static let pollInterval: Duration = .milliseconds(500)

    static func run(_ options: OperatorOptions, name: String, request: RunbookRunRequest, detach: Bool) async throws {
        var started: RunStatus?
        try await options.perform({ try await $0.runRunbook(name, request) }) { reply in
            let answer = try reply.decode(RunbookRunReply.self)
            if let plan = answer.plan { return RunbookText.plan(plan) }
            started = answer.run
            return RunbookText.status(answer.run)
        }
        guard let started, !detach, started.state != .finished else { return }
        var printed = started
        var outcome: RunStatus?
        while outcome == nil {
            try await Task.sleep(for: pollInterval)
            try await options.perform({ try await $0.runbookStatus() }) { reply in
                guard let run = try reply.decode(RunbookStatusReply.self).run, run.runID == started.runID else {
                    outcome = printed
                    return "the run is no longer reported by the agent"
                }
                defer { printed = run }
                if run.state == .finished || run.state == .stalled { outcome = run }
                return changes(from: printed, to: run)
            }
        }
        if outcome?.result?.status != .succeeded { throw ExitCode(1) }
    }

    /// The lines that changed between two statuses of one run (empty line: nothing changed).
    static func changes(from old: RunStatus, to new: RunStatus) -> String {
        var lines: [String] = []
        for record in new.steps where old.steps.first(where: { $0.step == record.step }) != record && record.state != .pending {
            lines.append("\(record.step) [\(record.action)] \(record.state.rawValue)\(record.summary.map { " — \($0)" } ?? "")")
        }
        if let question = new.question, question != old.question {
            lines.append("waiting: \(question.prompt) — answer: switchback runbook confirm --step \(question.step) --answer \(question.answers.map(\.rawValue).joined(separator: "|"))")
        }
        if let result = new.result { lines.append("result: \(result.status.rawValue): \(result.summary)") }
        if let problem = new.problem, problem != old.problem { lines.append("stalled: \(problem)") }
        return lines.joined(separator: "\n")
    }
}

extension RunbookFollow {
    /// `switchback failover --planned --to SITE`: the planned-switchover runbook from the site
    /// the agent reports active to `to`.
    static func plannedSwitchover(_ options: OperatorOptions, to: String, yes: Bool) async throws {
        var from = ""
        try await options.perform({ try await $0.status() }) { reply in
            from = try reply.decode(AgentStatusReport.self).active.activeSite
            return "planned switchover \(from) -> \(to)"
        }
        guard from != to else { throw ValidationError("\(to) is already the active site") }
        let request = RunbookRunRequest(params: ["from": from, "to": to], yes: yes, by: RunbookParameters.caller)
        try await run(options, name: "planned-switchover", request: request, detach: false)
    }
}
