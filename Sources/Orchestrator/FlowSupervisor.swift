import Metrics
import Foundation
import Logging
import Mirror
import ServiceLifecycle
import SwitchbackConfiguration
import Synchronization

/// Runs the flows into this agent's site, each with its ``GroupCheckpointer``, as the
/// committed configuration says (``FlowPlan``): `apply` stops and starts them, `stop` stops
/// one for a promotion (draining what the old site still serves). A `Service`: at graceful
/// shutdown every flow stops cleanly (its offset map stored) and a restart resumes exactly.
///
/// - Important: While it runs it holds the data directory's ``MirrorLock``, so a standalone
///   `switchback mirror` of the same site refuses to start beside it.
public final class FlowSupervisor: Service, Sendable {
    /// One running flow, for status pages.
    public struct FlowReport: Sendable, Hashable, Codable {
        public var from: String
        public var to: String
        public var phase: String
        /// Records at the source not yet copied (sum over partitions; `nil` before the first
        /// read of the source's ends).
        public var lag: Int64?
        /// Per group: seconds since its newest checkpoint was read at the source.
        public var checkpointAges: [String: Double]
        /// The forward flow this one reverses, as `from→to`.
        public var reverseOf: String?
    }

    private struct Running: Sendable {
        var flow: Flow
        var checkpointer: GroupCheckpointer
        var reverseOf: FlowRoute?
        /// Cancels the task that runs the flow.
        var cancel: FlowCancellation
    }

    public let plan: FlowPlan
    private let configure: @Sendable (FlowRoute, FlowRoute?) throws(ConfigurationError) -> FlowConfiguration
    private let dataDirectory: String
    private let holder: String
    private let logger: Logger
    private let metricsFactory: (any MetricsFactory)?
    private let running = Mutex<[FlowRoute: Running]>([:])
    private let starts: AsyncStream<Running>
    private let startInput: AsyncStream<Running>.Continuation

    /// - Parameters:
    ///   - configure: the settings of a flow (and the forward flow it reverses).
    ///   - metricsFactory: where the flows' and checkpointers' metrics go (the agent passes its
    ///     Prometheus registry, so lag and checkpoint ages are on its `/metrics`).
    public init(
        plan: FlowPlan, dataDirectory: String, holder: String,
        configure: @escaping @Sendable (FlowRoute, FlowRoute?) throws(ConfigurationError) -> FlowConfiguration, logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.metricsFactory = metricsFactory
        self.plan = plan
        self.dataDirectory = dataDirectory
        self.holder = holder
        self.configure = configure
        self.logger = logger
        (starts, startInput) = AsyncStream.makeStream(of: Running.self)
    }

    /// The flows running now.
    public var routes: Set<FlowRoute> { Set(running.withLock { $0.keys }) }

    /// The running flows with their phase, lag and groups' checkpoint ages.
    public func reports() -> [FlowReport] {
        let now = Date()
        return running.withLock { $0 }.sorted { $0.key < $1.key }.map { route, running in
            let status = running.flow.status
            let lag = status.sourceEnds.isEmpty ? nil : status.sourceEnds.reduce(Int64(0)) { sum, end in
                sum + max(0, end.value.rawValue - (status.positions[end.key]?.rawValue ?? 0))
            }
            var ages: [String: Double] = [:]
            for (group, checkpoint) in running.checkpointer.latest { ages[group.rawValue] = now.timeIntervalSince(checkpoint.readAt) }
            return FlowReport(
                from: route.from.rawValue, to: route.to.rawValue, phase: "\(status.phase)", lag: lag, checkpointAges: ages,
                reverseOf: running.reverseOf?.description)
        }
    }

    /// The status of `route`'s flow, when it runs.
    public func status(_ route: FlowRoute) -> Flow.Status? { running.withLock { $0[route]?.flow.status } }

    /// Has `route`'s flow look for new selected topics now (see ``Flow/refreshTopics()``).
    public func refreshTopics(_ route: FlowRoute) { running.withLock { $0[route]?.flow }?.refreshTopics() }

    /// What `route` has not copied yet, per source partition (`topic/partition`), from the
    /// source's last known log ends and the flow's positions: the records at risk if the
    /// source is gone. Empty when the flow does not run or has not read the ends yet.
    public func unmirrored(_ route: FlowRoute) -> [String: Int64] {
        guard let status = running.withLock({ $0[route]?.flow.status }) else { return [:] }
        var tail: [String: Int64] = [:]
        for (partition, end) in status.sourceEnds {
            let missing = end.rawValue - (status.positions[partition]?.rawValue ?? 0)
            if missing > 0 { tail["\(partition.topic)/\(partition.partition)"] = missing }
        }
        return tail
    }

    /// Starts `start.route` unless it runs already.
    /// - Throws: ``ConfigurationError`` when the flow's settings cannot be built.
    public func start(_ start: FlowStart) throws(ConfigurationError) {
        let configuration = try configure(start.route, start.reverseOf)
        let started = running.withLock { running -> Running? in
            guard running[start.route] == nil else { return nil }
            let flow = Flow(configuration: configuration, logger: logger, metricsFactory: metricsFactory)
            let entry = Running(
                flow: flow, checkpointer: GroupCheckpointer(flow: flow, logger: logger, metricsFactory: metricsFactory), reverseOf: start.reverseOf, cancel: FlowCancellation())
            running[start.route] = entry
            return entry
        }
        guard let started else { return }
        logger.notice("starting flow", metadata: ["flow": "\(start.route)", "reverse-of": "\(start.reverseOf?.description ?? "-")"])
        startInput.yield(started)
    }

    /// Stops `route` and returns once it has stopped.
    ///
    /// - Parameter drainWithin: drain first (copy everything the source held when asked), for
    ///   at most this long; `nil` stops at once (the source is unreachable).
    /// - Returns: whether the flow drained completely (`false` when it was not running,
    ///   was stopped without draining, or the drain did not finish in time).
    @discardableResult
    public func stop(_ route: FlowRoute, drainWithin: Duration?) async -> Bool {
        guard let entry = running.withLock({ $0.removeValue(forKey: route) }) else { return false }
        // From here on the checkpointer writes nothing (a drain's last positions are read live).
        entry.checkpointer.retire()
        var drained = false
        if let drainWithin {
            // Unstructured: `drain` waits for the flow without heeding cancellation, and a flow
            // blocked on an unreachable source must not hold this promotion up past the limit.
            Task { try? await entry.flow.drain() }
            if await finishes(entry.flow, within: drainWithin), entry.flow.status.phase == .stopped { drained = true }
        }
        entry.flow.stop()
        // A flow blocked on an unreachable source may not get round to stopping; then it is
        // cancelled (as a crash: nothing more is stored, a later run resumes exactly).
        if !(await finishes(entry.flow, within: Self.stopLimit)) {
            logger.warning("flow did not stop in time; cancelling it", metadata: ["flow": "\(route)"])
            entry.cancel.cancel()
            _ = await finishes(entry.flow, within: Self.stopLimit)
        }
        // Only a write in flight is waited for: a checkpointer blocked reading an unreachable
        // source writes nothing once retired, and its task ends with the supervision.
        if !(await checkpointerStopsWriting(entry.checkpointer, within: Self.stopLimit)) {
            logger.warning("the flow's checkpointer was still writing after the stop limit", metadata: ["flow": "\(route)"])
        }
        logger.notice("stopped flow", metadata: ["flow": "\(route)", "drained": "\(drained)"])
        return drained
    }

    /// How long a stopped flow may take to finish before it is cancelled.
    static let stopLimit: Duration = .seconds(5)

    private func checkpointerStopsWriting(_ checkpointer: GroupCheckpointer, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while checkpointer.isWriting {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Whether `flow` has finished (stopped or failed) within `limit`; polls its phase, since
    /// waiting for it does not end on cancellation.
    private func finishes(_ flow: Flow, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while true {
            switch flow.status.phase {
            case .stopped, .failed: return true
            default: break
            }
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs the started flows until graceful shutdown, then stops them all.
    /// - Throws: ``MirrorLockError`` when another process runs this site's flows.
    public func run() async throws {
        let lock = try MirrorLock(dataDirectory: dataDirectory, holder: holder)
        await withDiscardingTaskGroup { group in
            for await entry in starts.cancelOnGracefulShutdown() {
                group.addTask { await self.supervise(entry) }
            }
            // Graceful shutdown reaches each flow through its own handler; stop the rest too.
            for entry in running.withLock({ Array($0.values) }) { entry.flow.stop() }
        }
        withExtendedLifetime(lock) {}
    }

    /// Runs one flow and, beside it, its checkpointer (restarted after a failure) until the
    /// flow finishes.
    private func supervise(_ entry: Running) async {
        let route = entry.flow.configuration.flow
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                // Its own task (inheriting graceful shutdown), so `stop` can cancel this one flow.
                let run = Task {
                    do {
                        try await entry.flow.run()
                    } catch {
                        self.logger.error("flow failed", metadata: ["flow": "\(route)", "error": "\(error)"])
                    }
                }
                entry.cancel.set { run.cancel() }
                await run.value
                return true
            }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        do {
                            try await entry.checkpointer.run()
                        } catch {
                            self.logger.warning("group checkpoints stopped; restarting", metadata: ["flow": "\(route)", "error": "\(error)"])
                        }
                        try? await Task.sleep(for: entry.flow.configuration.checkpointInterval)
                    }
                }
                return false
            }
            // The flow stops on its own (stop, drain, graceful shutdown); the checkpointer with it.
            while let flowEnded = await group.next(), !flowEnded {}
            group.cancelAll()
        }
        running.withLock { running in
            if running.values.contains(where: { $0.flow === entry.flow }) {
                running = running.filter { $0.value.flow !== entry.flow }
            }
        }
    }
}

/// Cancels one flow's task (set once the task exists).
final class FlowCancellation: Sendable {
    private let action = Mutex<(@Sendable () -> Void)?>(nil)
    private let requested = Mutex(false)

    func set(_ cancel: @escaping @Sendable () -> Void) {
        action.withLock { $0 = cancel }
        if requested.withLock({ $0 }) { cancel() }
    }

    func cancel() {
        requested.withLock { $0 = true }
        action.withLock { $0 }?()
    }
}
