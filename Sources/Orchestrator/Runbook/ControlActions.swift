import Foundation

/// `notify`: sends an alert (and an audit entry) with a message, through the agent's outbox.
public struct NotifyAction: StepAction {
    public let name = "notify"
    private let sink: RunbookNoticeSink

    public init(sink: @escaping RunbookNoticeSink) { self.sink = sink }

    public var parameterSpecs: [StepParameterSpec]? {
        [.init("message", required: true, "the text of the alert"), .init("severity", "info (default), warning or critical")]
    }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        let (message, severity) = try read(context)
        return StepPlan(summary: "send a \(severity.rawValue) alert", changes: ["alert: \(message)"])
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let (message, severity) = try read(context)
        sink(RunbookNotice(runID: context.runID, runbook: context.runbook, step: context.step, kind: .notify, epoch: context.epoch, message: message, severity: severity, alert: true))
        return StepOutcome(summary: "sent a \(severity.rawValue) alert: \(message)")
    }

    private func read(_ context: StepContext) throws(StepActionError) -> (String, RunbookNotice.Severity) {
        let text = context.parameters.string("severity", default: "info")
        guard let severity = RunbookNotice.Severity(rawValue: text) else {
            throw .parameter("severity", "is '\(text)', expected info, warning or critical")
        }
        return (try context.parameters.string("message"), severity)
    }
}

/// `confirm`: a step that does nothing but wait for `--yes` or an operator's answer (the loader
/// marks it `confirm: true`), so a runbook can pause before its point of no return.
public struct ConfirmAction: StepAction {
    public static let actionName = "confirm"
    public let name = ConfirmAction.actionName

    public init() {}

    public var parameterSpecs: [StepParameterSpec]? { [.init("message", "what the operator confirms")] }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        StepPlan(summary: "wait for an operator's yes: \(context.parameters.string("message", default: "continue?"))")
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        StepOutcome(summary: "confirmed: \(context.parameters.string("message", default: "continue"))")
    }
}

/// `assert`: fails the step when a condition over parameters and earlier outputs is false.
public struct AssertAction: StepAction {
    public let name = "assert"

    public init() {}

    public var parameterSpecs: [StepParameterSpec]? {
        [.init("that", required: true, expression: true, "the condition, e.g. steps.lag.records == 0"), .init("message", "why it must hold")]
    }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        let condition = try Self.condition(context)
        let check: StepPlan.Check
        do throws(ConditionError) {
            let holds = try condition.evaluate { Self.lookup($0, context) }
            check = .init("\(condition)", satisfied: holds, detail: holds ? "holds now" : "is false now")
        } catch {
            check = .init("\(condition)", satisfied: true, detail: "decided when the run gets here (\(error.message))")
        }
        return StepPlan(summary: "check that \(condition)", checks: [check])
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let condition = try Self.condition(context)
        let holds: Bool
        do throws(ConditionError) {
            holds = try condition.evaluate { Self.lookup($0, context) }
        } catch {
            throw StepActionError(.assertionFailed, "\(condition) cannot be evaluated: \(error.message)", retriable: false)
        }
        guard holds else {
            let why = context.parameters["message"].map { ": \($0)" } ?? ""
            throw StepActionError(.assertionFailed, "\(condition) is false\(why)", retriable: true)
        }
        return StepOutcome(summary: "\(condition) holds")
    }

    static func condition(_ context: StepContext) throws(StepActionError) -> Condition {
        let text = try context.parameters.string("that")
        do throws(ConditionError) {
            return try Condition(parsing: text)
        } catch {
            throw .parameter("that", "is not a condition: \(error.message)")
        }
    }

    static func lookup(_ reference: Condition.Reference, _ context: StepContext, result: [String: String] = [:]) -> String? {
        switch reference {
        case .parameter(let name): context.runParameters[name]
        case .output(let step, let key): context.outputs[step]?[key]
        case .result(let key): result[key]
        }
    }
}

/// `sleep`: waits a duration on the run's clock.
public struct SleepAction: StepAction {
    public let name = "sleep"

    public init() {}

    public var parameterSpecs: [StepParameterSpec]? { [.init("duration", required: true, "how long, e.g. 5s")] }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        StepPlan(summary: "wait \(DurationText.format(try context.parameters.duration("duration")))")
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let duration = try context.parameters.duration("duration")
        try await context.clock.sleep(for: duration)
        return StepOutcome(summary: "waited \(DurationText.format(duration))")
    }
}

import SwitchbackConfiguration
