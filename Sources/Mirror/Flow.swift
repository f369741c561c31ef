import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// A running mirror flow: copies the selected topics of the source cluster to the target
/// cluster, exactly once, keeping the offset map at the target. A swift-service-lifecycle
/// `Service`: run it in a `ServiceGroup`; graceful shutdown stops it cleanly.
///
/// Control: ``pause()``, ``resume()``, ``drain()`` (returns once the target has everything the
/// source had when it was called), ``stop()``. The control logic is ``FlowStateMachine``;
/// this type performs its actions.
///
/// - Important: A flow must be the only writer of its target partitions under the prefix
///   policy (one flow per source site and target site). Cancelling `run()` is treated as a
///   crash: nothing more is stored, and the next run resumes from the target's last records.
///   Before `run()` returns, the flow's producer is shut down (records already handed over are
///   flushed), so a new run never races a record of the old one onto the target.
///
/// Transactions on the source: the flow reads `read_committed`, so it copies committed and
/// non-transactional records only. Offsets without a record to copy (markers, aborted records)
/// count as dealt with once the source consumer has passed them (``FlowSession`` notes the
/// consumer's positions), so a drain returns when a partition ends in a marker, and a group
/// positioned after such offsets translates as caught up. A drain's targets are the source's
/// read_committed ends (last stable offsets), so it does not wait for transactions still open.
///
/// Known limits:
/// - Under the identity policy, a restart without a stored map scans the whole target
///   partition (local records included) to find the newest copy; with a stored map, only what
///   follows its last mapped target offset.
/// - The first records after start-up wait for librdkafka's metadata of new topics (about 1 s
///   with librdkafka 2.0.2); steady-state latency is not affected.
public final class Flow: Service, Sendable {
    /// What the flow is doing, for status pages and runbook checks.
    public struct Status: Sendable {
        public var phase: FlowPhase
        /// Next source offset dealt with (copied and acknowledged, or deliberately skipped),
        /// per source partition.
        public var positions: [TopicPartition: Offset]
        /// Failures retried so far.
        public var retries: Int
        /// The source's log ends as last read for the lag gauges, per source partition
        /// (empty before the first read); lag is these minus `positions`.
        public var sourceEnds: [TopicPartition: Offset] = [:]
    }

    private struct Shared: Sendable {
        var machine: FlowStateMachine
        var wake: RecordQueue?
        var positions: [TopicPartition: Offset] = [:]
        var sourceEnds: [TopicPartition: Offset] = [:]
        var retries = 0
        /// Set by ``Flow/refreshTopics()``: look for new selected topics and partitions at the
        /// next turn of the copy loop rather than at the provisioning interval.
        var refreshRequested = false
        /// The session's offset map as of its last store (see ``Flow/offsetMapSnapshot()``).
        var map: OffsetMap?
        var finishWaiters: [CheckedContinuation<Void, any Error>] = []
    }

    public let configuration: FlowConfiguration
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let clock: any Clock<Duration>
    private let shared: Mutex<Shared>

    /// - Parameters:
    ///   - metricsFactory: where the flow's metrics go (default: the process-wide
    ///     `MetricsSystem.factory`); see ``FlowMetrics`` for names and dimensions.
    ///   - clock: the flow's time: retry back-off, map-store, lag and provisioning intervals
    ///     (tests pass a manual clock).
    public init(
        configuration: FlowConfiguration, logger: Logger = Logger(label: "switchback.mirror.flow"),
        metricsFactory: (any MetricsFactory)? = nil, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.configuration = configuration
        self.clock = clock
        self.metricsFactory = metricsFactory ?? MetricsSystem.factory
        var logger = logger
        logger[metadataKey: "flow"] = "\(configuration.flow)"
        self.logger = logger
        shared = Mutex(Shared(machine: FlowStateMachine(retryBackoff: configuration.retryBackoff)))
    }

    /// The flow's phase and positions.
    public var status: Status {
        shared.withLock { Status(phase: $0.machine.phase, positions: $0.positions, retries: $0.retries, sourceEnds: $0.sourceEnds) }
    }

    /// The running session's offset map, as of its last store (at most one map-store interval
    /// behind the copies), or `nil` before the first session has loaded it. What the
    /// ``GroupCheckpointer`` beside the flow translates with.
    public func offsetMapSnapshot() -> OffsetMap? {
        shared.withLock { $0.map }
    }

    /// Stops copying; the flow stays connected and positioned.
    public func pause() { event { $0.pause() } }

    /// Copies again after ``pause()``.
    public func resume() { event { $0.resume() } }

    /// Stops after storing the offset map; ``run()`` returns.
    public func stop() { event { $0.stop() } }

    /// Looks for new selected topics and partitions at the source now rather than at the next
    /// provisioning interval: a runbook waiting for the flow to catch up calls it, so a topic
    /// created since the last look is copied before the wait ends instead of up to one
    /// interval later. A drain looks on its own.
    public func refreshTopics() {
        let wake = shared.withLock { shared -> RecordQueue? in
            shared.refreshRequested = true
            return shared.wake
        }
        wake?.wake()
    }

    /// Copies until the target holds everything the source held when this was called, then
    /// stops as ``stop()`` does. Returns when the flow has finished.
    /// - Throws: the flow's failure when it fails instead.
    public func drain() async throws {
        event { $0.drain() }
        try await waitUntilFinished()
    }

    /// Returns when ``run()`` has finished (stopped, drained or failed).
    public func waitUntilFinished() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, MirrorError>? = shared.withLock { shared in
                switch shared.machine.state {
                case .stopped: return .success(())
                case .failed(let error): return .failure(error)
                default:
                    shared.finishWaiters.append(continuation)
                    return nil
                }
            }
            if let outcome { continuation.resume(with: outcome.mapError { $0 as any Error }) }
        }
    }

    /// Feeds an event to the state machine and wakes the copy loop to act on it.
    private func event(_ body: (inout FlowStateMachine) -> FlowStateMachine.Action) {
        let wake = shared.withLock { shared -> RecordQueue? in
            _ = body(&shared.machine)
            return shared.wake
        }
        wake?.wake()
    }

    private func machine<T>(_ body: (inout FlowStateMachine) -> T) -> T {
        shared.withLock { body(&$0.machine) }
    }

    // MARK: Running

    /// Runs the flow until it is stopped, drained, fails for good, or the task is cancelled.
    /// - Throws: ``MirrorError`` when the flow fails in a way retrying cannot fix.
    public func run() async throws {
        var action = machine { $0.start() }
        if action == .none { action = machine { $0.isFinished ? .finish : .setUp } }
        do {
            try await withGracefulShutdownHandler {
                try await self.loop(from: action)
            } onGracefulShutdown: {
                self.stop()
            }
            finished(nil)
        } catch let error as MirrorError {
            finished(error)
            throw error
        } catch {
            finished(nil)
            if !(error is CancellationError) { throw error }
        }
    }

    private func finished(_ error: MirrorError?) {
        let waiters = shared.withLock { shared in
            if let error {
                if case .failed = shared.machine.state {} else { _ = shared.machine.failed(
                    MirrorError(error.code, error.message, isRetriable: false)) }
            } else {
                shared.machine.finished()
            }
            shared.wake = nil
            let waiters = shared.finishWaiters
            shared.finishWaiters = []
            return waiters
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    private func loop(from first: FlowStateMachine.Action) async throws {
        var action = first
        while true {
            switch action {
            case .finish, .none, .pauseCopying, .resumeCopying, .readSourceEnds:
                if machine({ $0.isFinished }) { return }
                action = .setUp
                continue
            case .fail(let error):
                throw error
            case .retry(let backoff):
                logger.warning("retrying in \(backoff)")
                try await clock.sleep(for: backoff)
                action = machine { $0.backoffElapsed() }
                continue
            case .setUp:
                break
            }
            let session: FlowSession
            do {
                session = try await FlowSession.open(configuration: configuration, logger: logger, metricsFactory: metricsFactory)
            } catch {
                try Task.checkCancellation()
                logger.error("set-up failed: \(error)")
                action = failure(error)
                continue
            }
            if Task.isCancelled {
                await session.abandon()
                throw CancellationError()
            }
            shared.withLock {
                $0.wake = session.queue
                $0.map = session.map
            }
            _ = machine { $0.setUpFinished() }
            do {
                try await copy(session, clock: clock)
                try await session.finish()
                publish(session)
                return
            } catch let error as MirrorError {
                await session.abandon()
                try Task.checkCancellation()
                logger.error("\(error)")
                action = failure(error)
            } catch {
                await session.abandon()
                throw error
            }
        }
    }

    private func failure(_ error: MirrorError) -> FlowStateMachine.Action {
        shared.withLock { shared in
            shared.retries += 1
            shared.wake = nil
            return shared.machine.failed(error)
        }
    }

    private func publish(_ session: FlowSession) {
        let positions = session.positions
        let ends = session.lagProbe.latest
        shared.withLock {
            $0.positions = positions
            $0.sourceEnds = ends
        }
    }

    /// The copy loop of one session; returns when the state machine says to finish.
    private func copy<C: Clock<Duration>>(_ session: FlowSession, clock: C) async throws {
        let configuration = self.configuration
        let reader = session.reader
        let queue = session.queue
        let lagProbe = session.lagProbe
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reader.run() }
            group.addTask { await lagProbe.run(clock: clock) }
            group.addTask {
                // The loop's heartbeat: store the map, refresh lag, notice control events.
                while !Task.isCancelled {
                    try await clock.sleep(for: min(configuration.mapStoreInterval, .milliseconds(100)))
                    queue.wake()
                }
            }
            defer { group.cancelAll() }
            var nextStore = clock.now.advanced(by: configuration.mapStoreInterval)
            var nextLag = clock.now
            var nextProvisioning = clock.now.advanced(by: configuration.provisioningInterval)
            var nextSkipAccounting = clock.now
            while true {
                try Task.checkCancellation()
                let (copying, finished) = machine { ($0.isCopying, $0.isFinished) }
                if finished { break }
                if machine({ $0.drainTargets == nil && $0.phase == .draining }) {
                    // What the source holds now includes topics created since the last
                    // provisioning; without this look a drain would end without them.
                    try await session.reprovision()
                    nextProvisioning = clock.now.advanced(by: configuration.provisioningInterval)
                    let ends = try await session.sourceEnds()
                    let positions = session.positions
                    _ = machine { $0.sourceEndsRead(ends, positions: positions) }
                    continue
                }
                try session.setPaused(!copying)
                let records = await session.queue.take(max: copying ? configuration.batching.maxBatchRecords : 0)
                if let failure = session.queue.failure { throw failure }
                if records.isEmpty {
                    try await session.pump()
                } else {
                    try await session.copy(records)
                }
                let now = clock.now
                // Offsets the source consumer passed without a record (transaction markers,
                // aborted records) count as dealt with: when idle, and every 100 ms under load.
                if records.isEmpty || now >= nextSkipAccounting {
                    session.accountForSkippedOffsets()
                    nextSkipAccounting = now.advanced(by: .milliseconds(100))
                }
                if now >= nextStore {
                    try await session.storeMapInBackground()
                    let map = session.map
                    shared.withLock { $0.map = map }
                    nextStore = now.advanced(by: configuration.mapStoreInterval)
                }
                if now >= nextLag {
                    session.updateLag(ends: session.lagProbe.latest)
                    nextLag = now.advanced(by: configuration.lagInterval)
                }
                let refresh = shared.withLock { shared -> Bool in
                    defer { shared.refreshRequested = false }
                    return shared.refreshRequested
                }
                if refresh || now >= nextProvisioning {
                    session.pruneBelowSourceLogStarts()
                    try await session.reprovision()
                    nextProvisioning = now.advanced(by: configuration.provisioningInterval)
                }
                publish(session)
                let positions = session.positions
                _ = machine { $0.progressed(positions) }
            }
        }
    }
}
