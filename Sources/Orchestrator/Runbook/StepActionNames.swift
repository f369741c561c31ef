import AsyncHTTPClient

/// The names of the actions runbooks are made of, so the shipped runbooks, the agent's registry
/// and the tests agree on one list.
public enum StepActionNames {
    /// Data-plane actions: implemented beside the flows, fencing and translation (by the agent's
    /// wiring), each idempotent and epoch-checked. The agent's registry must hold every one
    /// (``StepActionRegistry/missing(_:)``), or the shipped runbooks do not load.
    public static let dataPlane = [
        "probe", "wait-mirror-caught-up", "pause-flow", "resume-flow", "stop-flow", "start-flow",
        "fence-site", "unfence-site", "checkpoint-groups", "translate-groups", "promote", "announce",
        "reconcile", "reverse-flow",
    ]

    /// Actions the engine brings itself (``StepActionRegistry/generic(sink:httpClient:)``).
    public static let generic = ["notify", "http", "exec", "confirm", "assert", "sleep", "wait", "report"]
}

extension StepActionRegistry {
    /// A registry with the generic actions: notify (to `sink`), http, exec, confirm, assert,
    /// sleep, wait and report. The agent adds the data-plane actions to it.
    public static func generic(sink: @escaping RunbookNoticeSink, httpClient: HTTPClient = .shared) -> StepActionRegistry {
        var registry = StepActionRegistry()
        let http = HTTPAction(client: httpClient)
        let actions: [any StepAction] = [
            NotifyAction(sink: sink), http, ExecAction(), ConfirmAction(), AssertAction(), SleepAction(), WaitAction(http: http),
            ReportAction(),
        ]
        // The generic names are distinct and valid by construction; registration cannot fail.
        for action in actions { try? registry.register(action) }
        return registry
    }

    /// The names in `required` that are not registered (the agent checks its wiring with it).
    public func missing(_ required: [String] = StepActionNames.dataPlane + StepActionNames.generic) -> [String] {
        required.filter { action(named: $0) == nil }
    }
}
