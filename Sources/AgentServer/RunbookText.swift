import Foundation
import Orchestrator

/// The text `switchback runbook …` prints.
public enum RunbookText {
    public static func list(_ runbooks: [RunbookSummary]) -> String {
        guard !runbooks.isEmpty else { return "no runbooks" }
        let width = runbooks.map(\.name.count).max() ?? 0
        return runbooks.map { runbook in
            let first = runbook.description.split(separator: "\n").first.map(String.init) ?? ""
            return runbook.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + first
        }.joined(separator: "\n")
    }

    public static func show(_ detail: RunbookDetail) -> String {
        var lines = ["\(detail.name)", "", detail.description.trimmingCharacters(in: .whitespacesAndNewlines), "", "parameters:"]
        for parameter in detail.parameters {
            lines.append("  \(parameter.name)\(parameter.defaultValue.map { " (default \($0))" } ?? " (required)")  \(parameter.description)")
        }
        lines.append("steps:")
        for (index, step) in detail.steps.enumerated() { lines.append(stepLine(index + 1, step)) }
        if !detail.compensations.isEmpty {
            lines.append("compensations:")
            for step in detail.compensations { lines.append(stepLine(nil, step)) }
        }
        return lines.joined(separator: "\n")
    }

    private static func stepLine(_ number: Int?, _ step: RunbookDetail.StepLine) -> String {
        let params = step.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        var extras: [String] = []
        if let when = step.when { extras.append("when \(when)") }
        if let timeout = step.timeout { extras.append("timeout \(timeout)") }
        if step.retries > 0 { extras.append("retries \(step.retries)") }
        if step.onFailure != "abort" { extras.append("on failure \(step.onFailure)") }
        if step.confirm { extras.append("confirm") }
        let prefix = number.map { "  \($0). " } ?? "  - "
        return prefix + "\(step.id): \(step.action) \(params)" + (extras.isEmpty ? "" : "  [\(extras.joined(separator: ", "))]")
    }

    public static func plan(_ plan: RunPlan) -> String {
        var lines = ["dry run of \(plan.runbook) at epoch \(plan.epoch.rawValue) (nothing was changed)"]
        for (index, step) in plan.steps.enumerated() {
            lines.append("\(index + 1). \(step.id) (\(step.action)): \(step.decision)\(step.confirm ? " — asks for confirmation" : "")")
            if let stepPlan = step.plan {
                lines.append("     \(stepPlan.summary)")
                for check in stepPlan.checks { lines.append("     [\(check.satisfied ? "ok" : "FAIL")] \(check.name): \(check.detail)") }
                for change in stepPlan.changes { lines.append("     would: \(change)") }
            }
            if let note = step.note { lines.append("     \(note)") }
        }
        lines.append(plan.ready ? "every precondition that can be checked now holds" : "some preconditions do not hold now (FAIL above)")
        return lines.joined(separator: "\n")
    }

    public static func status(_ run: RunStatus?) -> String {
        guard let run else { return "no runbook has run since the agent started" }
        var lines = ["run \(run.runID): \(run.runbook) — \(run.state.rawValue) (epoch \(run.epoch.rawValue), started by \(run.startedBy))"]
        for record in run.steps {
            let mark = record.step == run.currentStep && run.state != .finished ? ">" : " "
            let detail = record.summary.map { " — \($0)" } ?? ""
            let attempts = record.attempts > 1 ? " (\(record.attempts) attempts)" : ""
            lines.append("\(mark) \(record.step) [\(record.action)] \(record.state.rawValue)\(attempts)\(detail)")
        }
        if let question = run.question {
            lines.append("waiting: \(question.prompt)")
            lines.append("answer with: switchback runbook confirm --step \(question.step) --answer \(question.answers.map(\.rawValue).joined(separator: "|"))")
        }
        if let result = run.result { lines.append("result: \(result.status.rawValue): \(result.summary)") }
        if let problem = run.problem { lines.append("stalled: \(problem)") }
        return lines.joined(separator: "\n")
    }
}
