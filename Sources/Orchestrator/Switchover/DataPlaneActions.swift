import Consensus
import Sites
import SwitchbackConfiguration

/// The data-plane actions of the shipped runbooks (probe, wait-mirror-caught-up, pause-,
/// resume-, stop- and start-flow, checkpoint-groups, translate-groups, promote, announce,
/// reverse-flow, and unfence-site with its `announce`), over a ``DataPlaneControl``.
///
/// Each acts for the run's epoch and is idempotent: the flow actions are done by the agent of
/// the flow's target site (where the flow runs), `announce` by the named site's agent (and,
/// for `switching`/`serving`, every other member's, so every sidecar says so at once),
/// `promote` by this agent's election. `fence-site` and `reconcile` are ``FencingActions``.
public struct DataPlaneActions: Sendable {
    let control: any DataPlaneControl
    let fencing: FencingActions

    public init(control: any DataPlaneControl, fencing: FencingActions) {
        self.control = control
        self.fencing = fencing
    }

    /// The actions, with fencing's `fence-site` and `reconcile`, ready for a ``StepActionRegistry``.
    public var all: [any StepAction] {
        [probe, waitCaughtUp, stopFlow, pauseFlow, startFlow(named: "start-flow"), startFlow(named: "resume-flow"), checkpointGroups,
         translateGroups, promote, announce, reverseFlow, unfenceSite]
            + fencing.all.filter { $0.name != "unfence-site" }
    }

    /// A registry with the generic actions and every data-plane action (``StepActionRegistry/missing(_:)`` is empty).
    public func registry(sink: @escaping RunbookNoticeSink) throws(StepActionRegistry.RegistryError) -> StepActionRegistry {
        var registry = StepActionRegistry.generic(sink: sink)
        for action in all { try registry.register(action) }
        return registry
    }

    // MARK: Parameters

    static let routeSpecs = [
        StepParameterSpec("from", required: true, "the flow's source site"), StepParameterSpec("to", required: true, "the flow's target site, whose agent runs it"),
    ]

    func site(_ parameters: StepParameters, _ key: String) throws(StepActionError) -> SiteID {
        let site = try parameters.site(key)
        guard control.memberSites.contains(site) else {
            throw .parameter(key, "names \(site), which is not a member site; use one of \(control.memberSites.map(\.rawValue).joined(separator: ", "))")
        }
        return site
    }

    func route(_ parameters: StepParameters) throws(StepActionError) -> FlowRoute {
        let route = FlowRoute(from: try site(parameters, "from"), to: try site(parameters, "to"))
        guard route.from != route.to else { throw .parameter("to", "is \(route.to), the same site as from; a flow joins two sites") }
        return route
    }

    /// Whether the flow runs at its target's agent now (a check for dry runs).
    func flowCheck(_ route: FlowRoute, _ context: StepContext) async -> StepPlan.Check {
        do {
            let reply = try await control.require(DataPlaneCommand(.flows, epoch: context.epoch), at: route.to)
            let state = reply.outputs["\(route)"]
            return .init("flow \(route)", satisfied: state != nil, detail: state ?? "not running at \(route.to)")
        } catch {
            return .init("flow \(route)", satisfied: false, detail: "\(error)")
        }
    }

    // MARK: Probe

    var probe: any StepAction {
        DataPlaneStepAction("probe", [StepParameterSpec("site", required: true, "the site whose cluster is probed")]) { context in
            let site = try site(context.parameters, "site")
            let reading = control.probe(site)
            return StepPlan(
                summary: "probe \(site)'s cluster",
                checks: [.init("\(site) reachable", satisfied: reading?.healthy ?? false, detail: reading?.detail ?? "no probe yet")])
        } run: { context in
            let site = try site(context.parameters, "site")
            let reading = control.probe(site)
            return StepOutcome(
                summary: "\(site)'s cluster: \(reading?.detail ?? "no probe yet")", outputs: ["healthy": String(reading?.healthy ?? false)])
        }
    }

    // MARK: Flows

    var waitCaughtUp: any StepAction {
        DataPlaneStepAction(
            "wait-mirror-caught-up", Self.routeSpecs + [StepParameterSpec("timeout", "how long to wait for lag 0 (default: the step's timeout, else 5m)")]
        ) { context in
            let route = try route(context.parameters)
            do {
                let reply = try await control.require(DataPlaneCommand(.flowLag, epoch: context.epoch, route: route), at: route.to)
                return StepPlan(summary: "wait until \(route) has copied everything", checks: [.init("caught up", satisfied: reply.outputs["lag"] == "0", detail: reply.summary)])
            } catch {
                return StepPlan(summary: "wait until \(route) has copied everything", checks: [.init("caught up", satisfied: false, detail: "\(error)")])
            }
        } run: { context in
            let route = try route(context.parameters)
            let limit = try context.parameters.duration("timeout", default: context.timeout ?? .seconds(300))
            let interval = Duration.milliseconds(200)
            var last = "no lag read yet"
            for _ in 0...max(1, Int(limit / interval)) {
                do {
                    let reply = try await control.require(DataPlaneCommand(.flowLag, epoch: context.epoch, route: route), at: route.to)
                    if reply.outputs["lag"] == "0" { return StepOutcome(summary: reply.summary, outputs: ["lag": "0"]) }
                    last = reply.summary
                } catch let error as StepActionError where error.retriable {
                    last = error.message
                }
                try await context.clock.sleep(for: interval)
            }
            throw StepActionError(.timedOut, "\(route) did not catch up within \(limit): \(last)", retriable: false)
        }
    }

    var stopFlow: any StepAction {
        DataPlaneStepAction("stop-flow", Self.routeSpecs + [StepParameterSpec("drain", "copy everything the source holds first (default true)")]) { context in
            let route = try route(context.parameters)
            let drain = try context.parameters.bool("drain", default: true)
            return StepPlan(
                summary: "stop \(route)\(drain ? " after draining it" : "") and hold it stopped", checks: [await flowCheck(route, context)],
                changes: ["flow \(route) stopped at \(route.to)"])
        } run: { context in
            let route = try route(context.parameters)
            let drain = try context.parameters.bool("drain", default: true)
            // Leave the flow supervisor's stop limit inside the step's timeout.
            let drainWithin = drain ? max(.seconds(1), (context.timeout ?? .seconds(36)) - .seconds(6)) : nil
            let reply = try await control.require(DataPlaneCommand(.stopFlow, epoch: context.epoch, route: route, drainWithin: drainWithin), at: route.to)
            return StepOutcome(summary: reply.summary, outputs: reply.outputs)
        }
    }

    var pauseFlow: any StepAction {
        DataPlaneStepAction("pause-flow", Self.routeSpecs) { context in
            let route = try route(context.parameters)
            return StepPlan(summary: "pause \(route) (stop without draining, held)", checks: [await flowCheck(route, context)], changes: ["flow \(route) paused"])
        } run: { context in
            let route = try route(context.parameters)
            let reply = try await control.require(DataPlaneCommand(.pauseFlow, epoch: context.epoch, route: route), at: route.to)
            return StepOutcome(summary: reply.summary, outputs: reply.outputs)
        }
    }

    func startFlow(named name: String) -> any StepAction {
        DataPlaneStepAction(name, Self.routeSpecs) { context in
            let route = try route(context.parameters)
            return StepPlan(summary: "run \(route) at \(route.to) again", changes: ["flow \(route) released and started"])
        } run: { context in
            try await startFlow(context)
        }
    }

    /// Releases the flow's hold and has its target's agent run it (start-flow and reverse-flow
    /// differ only in what their dry run says).
    private func startFlow(_ context: StepContext) async throws -> StepOutcome {
        let route = try route(context.parameters)
        let reply = try await context.untilReady {
            try await control.require(DataPlaneCommand(.startFlow, epoch: context.epoch, route: route), at: route.to)
        }
        return StepOutcome(summary: reply.summary, outputs: reply.outputs)
    }

    /// `reverse-flow{from,to}`: the flow from the new active site back to the old one runs
    /// (its agent starts it on the commit, with `reverseOf` the old direction; this step
    /// waits for it and releases any hold).
    var reverseFlow: any StepAction {
        DataPlaneStepAction("reverse-flow", Self.routeSpecs) { context in
            let route = try route(context.parameters)
            return StepPlan(summary: "the reverse flow \(route) runs at \(route.to)", changes: ["flow \(route) started (reverse of \(route.to)→\(route.from))"])
        } run: { context in
            try await startFlow(context)
        }
    }

    // MARK: Groups

    var checkpointGroups: any StepAction {
        DataPlaneStepAction(
            "checkpoint-groups", Self.routeSpecs + [StepParameterSpec("max_age", "fail when a group's newest checkpoint is older (e.g. 30s)")]
        ) { context in
            let route = try route(context.parameters)
            let ages = try await checkpointAges(route, context)
            return StepPlan(summary: "the groups' checkpoints of \(route): \(ages.count) group(s)", checks: [try ageCheck(ages, context)])
        } run: { context in
            let route = try route(context.parameters)
            let ages = try await checkpointAges(route, context)
            let check = try ageCheck(ages, context)
            guard check.satisfied else { throw StepActionError(.preconditionFailed, check.detail, retriable: true) }
            return StepOutcome(
                summary: "\(ages.count) group(s) checkpointed by \(route): \(check.detail)",
                outputs: ["groups": ages.keys.sorted().joined(separator: ","), "max_checkpoint_age": String(format: "%.1f", ages.values.max() ?? 0)])
        }
    }

    func checkpointAges(_ route: FlowRoute, _ context: StepContext) async throws -> [String: Double] {
        let reply = try await control.require(DataPlaneCommand(.flows, epoch: context.epoch), at: route.to)
        guard reply.outputs["\(route)"] != nil else {
            throw StepActionError(.preconditionFailed, "the flow \(route) does not run at \(route.to); its checkpointer runs beside it", retriable: true)
        }
        var ages: [String: Double] = [:]
        for (key, value) in reply.outputs where key.hasPrefix("checkpoint.") { ages[String(key.dropFirst("checkpoint.".count))] = Double(value) }
        return ages
    }

    func ageCheck(_ ages: [String: Double], _ context: StepContext) throws(StepActionError) -> StepPlan.Check {
        let oldest = ages.max { $0.value < $1.value }
        guard context.parameters["max_age"] != nil else {
            return .init("checkpoints", satisfied: true, detail: oldest.map { "oldest: \($0.key) \(String(format: "%.1f", $0.value)) s" } ?? "no group checkpointed yet")
        }
        let limit = try context.parameters.duration("max_age")
        let limitSeconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        let stale = ages.filter { $0.value > limitSeconds }.keys.sorted()
        return .init(
            "checkpoints within \(limit)", satisfied: stale.isEmpty,
            detail: stale.isEmpty ? "every group's checkpoint is newer than \(limit)" : "stale: \(stale.joined(separator: ", "))")
    }

    var translateGroups: any StepAction {
        DataPlaneStepAction(
            "translate-groups",
            Self.routeSpecs + [
                StepParameterSpec("source", "live (exact, from the source's committed offsets), checkpoints, or auto (live when the source is reachable)"),
                StepParameterSpec("max_age", "with checkpoints: the oldest checkpoint used"),
            ]
        ) { context in
            let (route, command) = try translation(context, dryRun: true)
            do {
                let reply = try await control.require(command, at: route.to)
                return StepPlan(summary: reply.summary, changes: ["commit the positions of \(reply.outputs["count"] ?? "0") group(s) at \(route.to)"])
            } catch {
                return StepPlan(summary: "translate the groups of \(route)", checks: [.init("translation", satisfied: false, detail: "\(error)")])
            }
        } run: { context in
            let (route, command) = try translation(context, dryRun: false)
            let reply = try await control.require(command, at: route.to)
            return StepOutcome(summary: reply.summary, outputs: reply.outputs)
        }
    }

    func translation(_ context: StepContext, dryRun: Bool) throws(StepActionError) -> (FlowRoute, DataPlaneCommand) {
        let route = try route(context.parameters)
        let text = context.parameters.string("source", default: "live")
        let source: PositionSource
        switch text {
        case "live": source = .live
        case "checkpoints": source = .checkpoints
        case "auto": source = control.probe(route.from)?.healthy == true ? .live : .checkpoints
        default: throw .parameter("source", "is \(text); use live, checkpoints or auto")
        }
        let maxAge = context.parameters["max_age"] == nil ? nil : try context.parameters.duration("max_age")
        return (route, DataPlaneCommand(.translateGroups, epoch: context.epoch, route: route, source: source, dryRun: dryRun, maxAge: maxAge))
    }
}
