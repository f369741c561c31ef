import Foundation
import Orchestrator
import Synchronization

/// The repository's `Runbooks/` directory.
let shippedRunbooks = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Runbooks").path

/// The loader the agent has: the generic actions with their parameter specs, and every
/// data-plane action name (their implementations live beside the flows and fencing).
func fullLoader() -> RunbookLoader {
    let generic = StepActionRegistry.generic(sink: { _ in })
    var actions: [String: [StepParameterSpec]?] = [:]
    for name in generic.names { actions[name] = generic.action(named: name)?.parameterSpecs }
    for name in StepActionNames.dataPlane { actions[name] = .some(nil) }
    return RunbookLoader(actions: actions)
}

/// A test action (a fake: the engine under test calls it) that counts its calls and does what
/// the test scripts: succeed with outputs, fail, or block until cancelled.
final class ScriptedAction: StepAction, Sendable {
    enum Behaviour: Sendable {
        case succeed([String: String])
        case fail(StepActionError)
        /// Sleep on the run's clock (the step's timeout or a test's cancellation ends it).
        case block
    }

    let name: String
    let idempotency: StepIdempotency
    private let state: Mutex<(script: [Behaviour], runs: Int, plans: Int)>

    init(_ name: String, idempotency: StepIdempotency = .idempotent, _ script: [Behaviour] = [.succeed([:])]) {
        self.name = name
        self.idempotency = idempotency
        self.state = Mutex((script, 0, 0))
    }

    var runs: Int { state.withLock { $0.runs } }
    var plans: Int { state.withLock { $0.plans } }

    func plan(_ context: StepContext) async throws -> StepPlan {
        state.withLock { $0.plans += 1 }
        return StepPlan(summary: "\(name) \(context.parameters.values)", checks: [.init("reachable", satisfied: true, detail: "yes")])
    }

    func run(_ context: StepContext) async throws -> StepOutcome {
        let behaviour = state.withLock { state -> Behaviour in
            state.runs += 1
            return state.script.count > 1 ? state.script.removeFirst() : state.script[0]
        }
        switch behaviour {
        case .succeed(let outputs): return StepOutcome(summary: "\(name) done", outputs: outputs)
        case .fail(let error): throw error
        case .block:
            try await context.clock.sleep(for: .seconds(3600))
            return StepOutcome(summary: "\(name) woke")
        }
    }
}

/// Collects the runner's notices.
final class NoticeLog: Sendable {
    private let notices = Mutex<[RunbookNotice]>([])
    var all: [RunbookNotice] { notices.withLock { $0 } }
    var sink: RunbookNoticeSink { { notice in self.notices.withLock { $0.append(notice) } } }
}
