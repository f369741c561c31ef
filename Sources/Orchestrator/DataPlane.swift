import Consensus
import Foundation
import Logging
import Mirror
import ServiceLifecycle
import Sites
import SwitchbackConfiguration
import Synchronization

/// The agent's data plane (issue 9): follows the committed configuration, promotes this
/// site when it becomes active (``Promotion``: stop the flow into it, position the groups,
/// then serve) and has the ``FlowSupervisor`` run the flows the configuration asks for.
///
/// A `Service` beside the election. Its phase is what the sidecar's `state` is made of at the
/// active site; every change calls `onChange` so long-polls wake at once.
///
/// - Important: A promotion acts for one epoch. A newer commit supersedes it between steps,
///   and the ``EpochFence`` refuses any step for an epoch older than one that already acted.
///   The last configuration acted on is kept in `<data_dir>/dataplane.json`, so a restarted
///   agent neither promotes twice (which would move groups back to old checkpoints) nor
///   forgets a promotion it had not finished.
public final class DataPlane: Service, Sendable {
    /// What the data plane needs from the agent around it.
    public struct Environment: Sendable {
        public var ownSite: SiteID?
        /// The configuration agents start from (before any record of this data plane).
        public var initial: SiteConfig
        /// The committed configuration now.
        public var committed: @Sendable () -> SiteConfig
        /// Returns when a configuration newer than `after` is committed, or after `timeout`.
        public var nextCommit: @Sendable (_ after: Epoch, _ timeout: Duration) async -> Void
        /// The settings of the flow `route`.
        public var flowConfiguration: @Sendable (FlowRoute) throws(ConfigurationError) -> FlowConfiguration
        /// Appends an audit entry (`kind`, epoch, message; `alert` when operators must hear of it).
        public var audit: @Sendable (_ kind: String, _ epoch: Epoch, _ message: String) -> Void
        /// Called after every change of phase or report.
        public var onChange: @Sendable () -> Void
        /// How long the flow into a promoted site may drain what the old site still serves.
        public var drainTimeout: Duration

        public init(
            ownSite: SiteID?, initial: SiteConfig, committed: @escaping @Sendable () -> SiteConfig,
            nextCommit: @escaping @Sendable (Epoch, Duration) async -> Void,
            flowConfiguration: @escaping @Sendable (FlowRoute) throws(ConfigurationError) -> FlowConfiguration,
            audit: @escaping @Sendable (String, Epoch, String) -> Void, onChange: @escaping @Sendable () -> Void,
            drainTimeout: Duration = .seconds(10)
        ) {
            self.ownSite = ownSite
            self.initial = initial
            self.committed = committed
            self.nextCommit = nextCommit
            self.flowConfiguration = flowConfiguration
            self.audit = audit
            self.onChange = onChange
            self.drainTimeout = drainTimeout
        }
    }

    /// The data plane's state for status pages.
    public struct Snapshot: Sendable, Hashable {
        public var phase: DataPlanePhase
        /// The newest completed failover's report.
        public var lastFailover: FailoverReport?
        /// The newest reconcile this agent ran (its site had returned after losing active).
        public var lastReconcile: ReconcileReport?
    }

    struct State: Sendable {
        var phase: DataPlanePhase
        /// Set by a planned switchover's `announce switching`: applications stop producing
        /// while the committed epoch is still this one.
        var switching: (epoch: Epoch, step: String)?
        /// Flows into this site a runbook stopped (or paused), kept stopped while the committed
        /// epoch is the one named, so the follow loop does not start them again.
        var held: [FlowRoute: Epoch] = [:]
        /// Flows into this site that a runbook drained completely before holding them, by epoch.
        var drained: [FlowRoute: Epoch] = [:]
        /// Groups positioned at this site by a planned switchover's `translate-groups`, while
        /// the flow was held stopped at `epoch`: the promotion to the next epoch does not
        /// position them again.
        var prepared: PreparedGroups?
        var lastFailover: FailoverReport?
        var lastReconcile: ReconcileReport?
        var fence = EpochFence()
        /// Per site: when this agent's probes of it started failing (the current streak).
        var failingSince: [SiteID: Date] = [:]
        var healthy: [SiteID: Bool] = [:]
    }

    public let supervisor: FlowSupervisor
    let environment: Environment
    private let record: DataPlaneRecordFile
    let logger: Logger
    let state: Mutex<State>

    public init(environment: Environment, supervisor: FlowSupervisor, dataDirectory: String, logger: Logger) {
        self.environment = environment
        self.supervisor = supervisor
        self.logger = logger
        record = DataPlaneRecordFile(directory: dataDirectory)
        let committed = environment.committed()
        let last = (try? record.load()) ?? DataPlaneRecord(config: environment.initial, served: environment.initial.epoch)
        // Until the loop has acted on `committed`, say what is true of it already.
        let phase: DataPlanePhase
        if committed.activeSite != environment.ownSite {
            phase = .following(committed.epoch)
        } else if last.config.activeSite == committed.activeSite && last.served != nil {
            phase = .serving(committed.epoch)
        } else {
            phase = .promoting(committed.epoch, step: .stopFlow)
        }
        state = Mutex(State(phase: phase))
    }

    public var snapshot: Snapshot { state.withLock { Snapshot(phase: $0.announcedPhase, lastFailover: $0.lastFailover, lastReconcile: $0.lastReconcile) } }

    /// The phase of this site's data plane: `switching` while a planned switchover announced
    /// it for the epoch this site still holds (and no promotion runs), else the phase of the loop.
    public var phase: DataPlanePhase { state.withLock { $0.announcedPhase } }

    /// Notes one probe of `site`'s cluster: whether it is reachable, and when a failure streak
    /// started (the fault's time in the failover report).
    public func noteProbe(site: SiteID, healthy: Bool, at time: Date = Date()) {
        state.withLock { state in
            state.healthy[site] = healthy
            if healthy {
                state.failingSince[site] = nil
            } else if state.failingSince[site] == nil {
                state.failingSince[site] = time
            }
        }
    }

    /// Whether the latest probe of `site` was good.
    public func isReachable(_ site: SiteID) -> Bool { state.withLock { $0.healthy[site] ?? false } }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.follow() }
    }

    private func follow() async {
        var last = (try? record.load()) ?? DataPlaneRecord(config: environment.initial, served: environment.initial.epoch)
        while !Task.isCancelled {
            let config = environment.committed()
            if config.epoch > last.config.epoch || (last.served == nil && config.activeSite == environment.ownSite)
                || supervisor.routes != wantedRoutes(config)
            {
                do {
                    last = try await act(on: config, previous: last)
                } catch is CancellationError {
                    return
                } catch {
                    // This agent's own disk failed under it: say so and try again at the next round.
                    logger.error("the data plane could not act on \(config)", metadata: ["error": "\(error)"])
                    environment.audit("warning", config.epoch, "the data plane could not act on \(config): \(error)")
                }
            }
            await environment.nextCommit(config.epoch, .seconds(1))
        }
    }

    /// Brings the data plane to `config` from the last configuration acted on.
    private func act(on config: SiteConfig, previous: DataPlaneRecord) async throws -> DataPlaneRecord {
        let ownSite = environment.ownSite
        var next = DataPlaneRecord(config: config, served: nil)
        if config.activeSite == ownSite {
            if previous.config.activeSite != ownSite || (previous.served == nil && previous.config.epoch == config.epoch) {
                let oldSite = previous.config.activeSite == ownSite ? config.mirrorDirection.to : previous.config.activeSite
                guard try await promote(config, oldSite: oldSite, previous: previous.config.epoch) else { return previous }
            } else {
                setPhase(.serving(config.epoch))
            }
            next.served = config.epoch
        } else {
            if previous.config.activeSite == ownSite && config.epoch > previous.config.epoch {
                environment.audit("demoted", config.epoch, "this site lost active to \(config.activeSite) in \(config.epoch); it serves no more")
            }
            setPhase(.following(config.epoch))
        }
        try record.save(next)
        let pending = await applyFlows(config, previous: previous.config, pending: previous.pendingStarts ?? [])
        if !pending.isEmpty || previous.pendingStarts?.isEmpty == false {
            next.pendingStarts = pending.isEmpty ? nil : pending
            try record.save(next)
        }
        return next
    }

    /// The flows the committed configuration asks for, without those a runbook holds stopped.
    private func wantedRoutes(_ config: SiteConfig) -> Set<FlowRoute> {
        let held = state.withLock { $0.held.filter { $0.value == config.epoch }.keys }
        return supervisor.plan.routes(for: config).subtracting(held)
    }

    /// Stops and starts flows for `config`.
    /// - Returns: the starts that did not happen (they failed, or a runbook holds the route),
    ///   to be tried again with the same decisions (``FlowPlan/changes(running:previous:config:pending:)``).
    private func applyFlows(_ config: SiteConfig, previous: SiteConfig, pending: [FlowStart]) async -> [FlowStart] {
        let changes = supervisor.plan.changes(running: supervisor.routes, previous: previous, config: config, pending: pending)
        let wanted = wantedRoutes(config)
        var notStarted: [FlowStart] = []
        for route in changes.stop { await supervisor.stop(route, drainWithin: nil) }
        for start in changes.start {
            guard wanted.contains(start.route) else {
                notStarted.append(start)
                continue
            }
            do {
                if start.reconcileFirst { try await recoverReturnedSite(config, reverse: start.route) }
                try supervisor.start(start)
            } catch {
                notStarted.append(start)
                logger.error("cannot start flow", metadata: ["flow": "\(start.route)", "error": "\(error)"])
                environment.audit("warning", config.epoch, "flow \(start.route) cannot start: \(error)")
            }
        }
        return notStarted
    }

    // MARK: Returned site

    /// Before the reverse flow copies into this (demoted, returned) site: fence its cluster so
    /// its producers stop, copy what it took and never mirrored to the active site
    /// (``Reconciler``), then unfence it so the reverse flow can write (under `identity` it
    /// writes the fenced topics). Each step is idempotent; a failure (the cluster still
    /// unreachable) leaves the reverse flow unstarted and the next round tries again.
    private func recoverReturnedSite(_ config: SiteConfig, reverse: FlowRoute) async throws {
        guard let ownSite = environment.ownSite else { return }
        let epoch = config.epoch
        let forward = try environment.flowConfiguration(FlowRoute(from: ownSite, to: config.activeSite))
        let stateTopic = SiteStateTopic(writer: ownSite, logger: logger)
        let fence = SiteFence(topics: forward.topics, naming: forward.naming, state: stateTopic, logger: logger)
        _ = try await fence.fence(site: forward.source, epoch: epoch)
        environment.audit("fenced", epoch, "fenced \(ownSite)'s cluster for \(epoch): acks=all producers there are refused")
        let report = try await Reconciler(flow: forward, state: stateTopic, logger: logger).reconcile(epoch: epoch)
        state.withLock { $0.lastReconcile = report }
        environment.audit("reconciled", epoch, report.description)
        _ = try await fence.unfence(site: forward.source, epoch: epoch)
        environment.onChange()
    }

    // MARK: Promotion

    /// Runs the promotion for `config`; `false` when a newer epoch superseded it.
    private func promote(_ config: SiteConfig, oldSite: SiteID, previous: Epoch) async throws -> Bool {
        guard let ownSite = environment.ownSite else { return false }
        let epoch = config.epoch
        let route = FlowRoute(from: oldSite, to: ownSite)
        let faultAt = state.withLock { $0.failingSince[oldSite] } ?? Date()
        environment.audit("promotionStarted", epoch, "promoting \(ownSite) in \(epoch): stopping the flow \(route), then positioning the groups")
        var machine = Promotion(epoch: epoch, oldSite: oldSite)
        var report = FailoverReport(
            epoch: epoch.rawValue, fromSite: oldSite.rawValue, toSite: ownSite.rawValue, positionedFrom: "", recordsAtRisk: [:],
            groupsPositioned: [], groupsNotPositioned: [:], checkpointAges: [:], secondsToServing: 0)
        var action = machine.start(oldSiteReachable: isReachable(oldSite))
        // A planned switchover stopped the flow (drained) and positioned the groups exactly while
        // `previous` was committed; nothing can have moved since, so they are not positioned again.
        if let prepared = state.withLock({ $0.prepared }), prepared.route == route, prepared.epoch == previous {
            action = machine.startPrepared()
            report.positionedFrom = "\(PositionSource.live) (planned switchover, \(prepared.epoch))"
            report.groupsPositioned = prepared.groups
            environment.audit("groupsPositioned", epoch, "groups already positioned at \(ownSite) by the planned switchover in \(prepared.epoch): \(prepared.groups.joined(separator: ", "))")
        }
        while true {
            if environment.committed().epoch > epoch {
                _ = machine.supersede(by: environment.committed().epoch)
                environment.audit("promotionSuperseded", epoch, "promotion of \(ownSite) in \(epoch) abandoned: a newer epoch is committed")
                return false
            }
            if machine.admits(action) {
                do {
                    try state.withLock { state throws(StaleEpoch) in try state.fence.admit(epoch, action: "promotion step \(machine.step)") }
                } catch {
                    environment.audit("warning", epoch, "\(error)")
                    return false
                }
            }
            switch action {
            case .stopFlow(_, let from, let drain):
                setPhase(.promoting(epoch, step: .stopFlow))
                let wasRunning = supervisor.routes.contains(route)
                report.recordsAtRisk = supervisor.unmirrored(route)
                let drained = await supervisor.stop(route, drainWithin: drain ? environment.drainTimeout : nil)
                if drained { report.recordsAtRisk = [:] }
                logger.notice("flow into the promoted site stopped", metadata: ["flow": "\(FlowRoute(from: from, to: ownSite))", "drained": "\(drained)"])
                action = machine.flowStopped(epoch: epoch, drained: drained || (drain && !wasRunning))
            case .positionGroups(_, _, let source):
                setPhase(.promoting(epoch, step: .positionGroups))
                do {
                    let result = try await position(route, from: source)
                    report.positionedFrom = source.rawValue
                    report.groupsPositioned = Set(result.report.plans.filter { !$0.commits.isEmpty }.map(\.group.rawValue))
                        .subtracting(result.commitFailures.keys.map(\.rawValue)).sorted()
                    report.groupsNotPositioned = Dictionary(uniqueKeysWithValues: result.groupErrors.map { ($0.key.rawValue, $0.value) })
                    for (group, failures) in result.commitFailures {
                        report.groupsNotPositioned[group.rawValue] = failures.values.sorted().joined(separator: "; ")
                    }
                    for (group, age) in result.staleCheckpoints { report.groupsNotPositioned[group.rawValue] = "checkpoint \(age) old" }
                    report.checkpointAges = Dictionary(uniqueKeysWithValues: result.checkpointAges.map { ($0.key.rawValue, $0.value.seconds) })
                    environment.audit("groupsPositioned", epoch, "groups positioned at \(ownSite) from \(source): \(result.description)")
                    action = machine.groupsPositioned(epoch: epoch, from: source)
                } catch {
                    logger.warning("positioning the groups failed", metadata: ["source": "\(source)", "error": "\(error)"])
                    environment.audit("warning", epoch, "positioning the groups at \(ownSite) from \(source) failed: \(error)")
                    action = machine.positioningFailed(epoch: epoch, source: source)
                }
            case .recordEpoch:
                setPhase(.promoting(epoch, step: .recordEpoch))
                do {
                    let target = try environment.flowConfiguration(route).target
                    _ = try await SiteStateTopic(writer: ownSite, logger: logger).record(config, on: target)
                    action = machine.epochRecorded(epoch: epoch)
                } catch let error as FencingError where error.code == .staleEpoch {
                    // This site's cluster already holds a newer epoch: this promotion is deposed.
                    environment.audit("warning", epoch, "promotion of \(ownSite) in \(epoch) stopped: \(error)")
                    return false
                } catch {
                    logger.warning("cannot record the epoch in __switchback_state", metadata: ["error": "\(error)"])
                    action = machine.recordingFailed(epoch: epoch)
                }
            case .retry(let backoff, let retried):
                try await Task.sleep(for: backoff)
                action = retried
            case .announceServing:
                report.secondsToServing = Date().timeIntervalSince(faultAt)
                state.withLock { state in
                    state.phase = .serving(epoch)
                    state.lastFailover = report
                    state.prepared = nil
                }
                environment.onChange()
                environment.audit("failoverReport", epoch, report.description)
                return true
            case .none:
                return machine.step == .serving
            }
        }
    }

    private func position(_ route: FlowRoute, from source: PositionSource) async throws -> GroupTranslationResult {
        let service = OffsetTranslationService(configuration: try environment.flowConfiguration(route), logger: logger)
        switch source {
        case .live: return try await service.translate(direction: .failover, dryRun: false)
        case .checkpoints: return try await service.translateFromCheckpoints(dryRun: false, maxAge: nil)
        }
    }

    func setPhase(_ phase: DataPlanePhase) {
        let changed = state.withLock { state -> Bool in
            defer { state.phase = phase }
            return state.phase != phase
        }
        if changed { environment.onChange() }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
