import Consensus
import Logging
import Mirror
import Sites
import SwitchbackConfiguration

/// The runbook actions `fence-site`, `unfence-site` and `reconcile`, over ``SiteFence`` and
/// ``Reconciler``, with the sites, topic selection and naming policy of one agent's
/// configuration. Register them with ``all``.
///
/// Parameters:
/// - `fence-site`, `unfence-site`: `site` — the site whose producers are fenced (its cluster
///   is the one changed).
/// - `reconcile`: `site` — the returned site; `to` — the active site the records go to
///   (default: this agent's site, where the reconcile runs).
public struct FencingActions: Sendable {
    public let configuration: AgentConfiguration
    private let logger: Logger

    public init(configuration: AgentConfiguration, logger: Logger = Logger(label: "switchback.fence")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The three actions, ready for a ``StepActionRegistry``.
    public var all: [any StepAction] {
        [FenceSiteAction(actions: self, fencing: true), FenceSiteAction(actions: self, fencing: false), ReconcileAction(actions: self)]
    }

    func endpoint(_ parameters: StepParameters, _ key: String) throws(StepActionError) -> FlowEndpoint {
        let site = try parameters.site(key)
        guard let settings = configuration.site(site) else {
            throw .parameter(key, "names \(site), which is not under `sites`; use one of "
                + configuration.sites.map(\.name.rawValue).joined(separator: ", "))
        }
        return FlowEndpoint(site: settings.name, bootstrapServers: settings.bootstrapServers, properties: settings.librdkafkaProperties())
    }

    var state: SiteStateTopic { SiteStateTopic(writer: configuration.name, logger: logger) }

    var fence: SiteFence {
        SiteFence(topics: configuration.mirror.topics,
                  naming: TopicNaming(policy: configuration.mirror.policy, knownSites: Set(configuration.sites.map(\.name))),
                  state: state, logger: logger)
    }

    func reconciler(_ parameters: StepParameters) throws(StepActionError) -> Reconciler {
        let returned = try parameters.site("site")
        let active = parameters["to"] == nil ? configuration.name : try parameters.site("to")
        do {
            let flow = try configuration.flowConfiguration(FlowRoute(from: returned, to: active))
            return Reconciler(flow: flow, state: state, logger: logger)
        } catch {
            throw .parameter("site", "cannot name the flow \(returned)→\(active): \(error)")
        }
    }

    static func stepError(_ error: FencingError) -> any Error {
        switch error.code {
        case .cancelled: CancellationError()
        case .staleEpoch: StepActionError(.staleEpoch, error.message, retriable: false)
        case .notFenced: StepActionError(.preconditionFailed, error.message, retriable: false)
        default: StepActionError(.failed, error.message, retriable: error.isRetriable)
        }
    }
}

/// `fence-site` (raise `min.insync.replicas`) or `unfence-site` (restore it).
struct FenceSiteAction: StepAction {
    let actions: FencingActions
    let fencing: Bool

    var name: String { fencing ? "fence-site" : "unfence-site" }

    var parameterSpecs: [StepParameterSpec]? {
        [StepParameterSpec("site", required: true, fencing
            ? "the site whose cluster refuses acks=all produces to the selected topics"
            : "the site whose topics get their min.insync.replicas back")]
    }

    func plan(_ context: StepContext) async throws -> StepPlan {
        let site = try actions.endpoint(context.parameters, "site")
        let plan: SiteFence.Plan
        do {
            plan = fencing ? try await actions.fence.planFence(site: site, epoch: context.epoch)
                : try await actions.fence.planUnfence(site: site, epoch: context.epoch)
        } catch {
            throw FencingActions.stepError(error)
        }
        return StepPlan(
            summary: "\(name) \(site.site) for \(context.epoch): \(plan.changes.count) topic(s)",
            checks: [.init("epoch", satisfied: plan.refusal == nil, detail: plan.refusal ?? "no newer epoch recorded on \(site.site)")],
            changes: plan.changes.map { "\($0.topic): \(SiteFence.configKey) \($0.current ?? "(default)") → \($0.planned ?? "(default)")" })
    }

    func run(_ context: StepContext) async throws -> StepOutcome {
        let site = try actions.endpoint(context.parameters, "site")
        let record: FenceRecord
        do {
            record = fencing ? try await actions.fence.fence(site: site, epoch: context.epoch)
                : try await actions.fence.unfence(site: site, epoch: context.epoch)
        } catch {
            throw FencingActions.stepError(error)
        }
        return StepOutcome(
            summary: fencing
                ? "\(site.site) fenced at \(context.epoch): acks=all produces to \(record.previous.count) topic(s) are refused (acks=1 ones are not)"
                : "\(site.site) unfenced at \(context.epoch): \(record.previous.count) topic(s) restored",
            outputs: ["site": site.site.rawValue, "state": record.state.rawValue, "topics": record.previous.map(\.topic).joined(separator: ",")])
    }
}

/// `reconcile`: copies the returned site's unmirrored records to the active site.
struct ReconcileAction: StepAction {
    let actions: FencingActions

    var name: String { "reconcile" }

    var parameterSpecs: [StepParameterSpec]? {
        [StepParameterSpec("site", required: true, "the returned site whose unmirrored records are copied"),
         StepParameterSpec("to", "the active site they are copied to (default: this agent's site)")]
    }

    func plan(_ context: StepContext) async throws -> StepPlan {
        let reconciler = try actions.reconciler(context.parameters)
        do {
            let report = try await reconciler.plan(epoch: context.epoch)
            return StepPlan(
                summary: "reconcile \(report.source) into \(report.target): \(report.recoveredCount) unmirrored record(s)",
                checks: [.init("fenced", satisfied: true, detail: "\(report.source) is fenced; its log ends at fencing bound the copy")],
                changes: report.partitions.filter { $0.count > 0 }.map(\.description))
        } catch let error where error.code == .notFenced || error.code == .staleEpoch {
            return StepPlan(summary: "reconcile cannot run", checks: [.init(error.code.rawValue, satisfied: false, detail: error.message)])
        } catch {
            throw FencingActions.stepError(error)
        }
    }

    func run(_ context: StepContext) async throws -> StepOutcome {
        let reconciler = try actions.reconciler(context.parameters)
        let report: ReconcileReport
        do {
            report = try await reconciler.reconcile(epoch: context.epoch)
        } catch {
            throw FencingActions.stepError(error)
        }
        var outputs = ["recovered": String(report.recoveredCount), "source": report.source.rawValue, "target": report.target.rawValue]
        for partition in report.partitions where partition.count > 0 {
            outputs["partition.\(partition.topic)/\(partition.partition)"] =
                "\(partition.count) (\(partition.firstSourceOffset ?? 0)…\(partition.lastSourceOffset ?? 0))"
        }
        return StepOutcome(summary: report.description, outputs: outputs, alert: report.recoveredCount > 0)
    }
}
