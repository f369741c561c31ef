import Consensus
import Foundation
import Logging
import Synchronization

/// Drives one agent's `Election`: feeds it events one at a time and performs the actions of
/// each event, in order, before taking the next event.
///
/// - Important: Events from every source (ticks, probes, peers, operators) go through one
///   queue, so the actions of one `handle` call — in particular a `persist` and the replies
///   that depend on it — are never interleaved with another call's. A `persist` is saved and
///   fsynced off the cooperative pool before any action after it; if saving fails, the rest
///   of that call's actions are dropped and the election restarts from the state on disk.
///
/// Queries (`isServingActive`, `status`) read the election under a lock at the current
/// instant, so sidecar answers are exact whenever they are asked.
public final class ElectionHost: Sendable {
    private struct Envelope: Sendable {
        var event: ElectionEvent
        var ticket: UInt64?
    }

    public let agent: AgentID
    private let election: Mutex<Election>
    private let origin: ContinuousClock.Instant
    private let store: FileElectionStore
    private let io = BlockingIO(label: "switchback.election-store")
    private let peers: any PeerSending
    public let board: ActiveConfigBoard
    private let audit: AuditLog
    private let metrics: AgentMetrics
    private let logger: Logger
    private let voters: Voters
    private let policy: ElectionPolicy
    private let stream: AsyncStream<Envelope>
    private let input: AsyncStream<Envelope>.Continuation
    /// Callers of `perform` waiting for their event's actions to be done.
    private struct Waiters {
        var next: UInt64 = 0
        var continuations: [UInt64: CheckedContinuation<[AuditRecord], Never>] = [:]
        /// Set when the loop ends; later `perform` calls return at once.
        var stopped = false
    }

    private let waiting = Mutex(Waiters())
    private let wakeup: ElectionWakeup

    /// Loads the durable state (or starts from `initial`) and builds the election.
    /// - Throws: `AgentError` when the state file cannot be read or does not fit the configuration.
    /// - Parameter rejoin: start as a voter without durable state (`Election`'s rejoin mode),
    ///   as the operator asks after moving a corrupted state file aside; also chosen on its own
    ///   when the state file is missing from a data directory that had one.
    public init(
        agent: AgentID, voters: Voters, policy: ElectionPolicy, initial: SiteConfig, dataDirectory: String,
        peers: any PeerSending, audit: AuditLog, metrics: AgentMetrics, logger: Logger, rejoin: Bool = false
    ) async throws(AgentError) {
        self.agent = agent
        self.voters = voters
        self.policy = policy
        self.store = FileElectionStore(directory: dataDirectory)
        self.peers = peers
        self.audit = audit
        self.metrics = metrics
        self.logger = logger
        let origin = ContinuousClock.now
        self.origin = origin
        let store = self.store
        let stored: ElectionState?
        do {
            stored = try await io.run { () throws(ElectionStoreError) in try store.load() }
        } catch {
            throw AgentError("\(error)")
        }
        let state = stored ?? .initial(initial)
        let lost = stored == nil && store.stateWasLost
        if lost {
            logger.warning(
                "the election state file is missing although this data directory had one; rejoining: no votes or lease grants until caught up with a majority",
                metadata: ["path": "\(store.path)"])
        }
        do {
            election = Mutex(
                try Election(
                    agent: agent, voters: voters, policy: policy, state: state, randomSeed: UInt64.random(in: 0...UInt64.max),
                    now: MonotonicInstant(origin, origin: origin), rejoining: rejoin || lost))
        } catch {
            throw AgentError("\(error)")
        }
        wakeup = ElectionWakeup(deadline: origin)
        board = ActiveConfigBoard(config: state.committed)
        (stream, input) = AsyncStream.makeStream(of: Envelope.self)
        metrics.recordCommitted(state.committed)
    }

    /// This agent's monotonic now.
    public func now() -> MonotonicInstant { MonotonicInstant(ContinuousClock.now, origin: origin) }

    /// `instant` on this agent's election clock (to stamp events with when they happened).
    public func instant(of instant: ContinuousClock.Instant) -> MonotonicInstant { MonotonicInstant(instant, origin: origin) }

    /// Wakes the election with a `.tick` at its next deadline (`Election.nextDeadline`),
    /// recomputed after every event, until the task is cancelled. A tick is submitted once per
    /// published deadline, so a tick still queued never causes another.
    public func runTimer() async {
        var ticked: UInt64?
        while !Task.isCancelled {
            let (deadline, generation) = wakeup.current
            if ticked == generation {
                await wakeup.changed(after: generation)
                continue
            }
            if await wakeup.sleep(until: deadline, generation: generation) {
                ticked = generation
                submit(.tick)
            }
        }
    }

    /// Queues an event without waiting for it.
    public func submit(_ event: ElectionEvent) {
        input.yield(Envelope(event: event, ticket: nil))
    }

    /// Queues an event and waits until its actions are done; returns its audit records
    /// (what the election decided about it). Returns `[]` if the host has stopped.
    public func perform(_ event: ElectionEvent) async -> [AuditRecord] {
        await withCheckedContinuation { continuation in
            let ticket = waiting.withLock { state -> UInt64? in
                guard !state.stopped else { return nil }
                state.next &+= 1
                state.continuations[state.next] = continuation
                return state.next
            }
            guard let ticket else { return continuation.resume(returning: []) }
            input.yield(Envelope(event: event, ticket: ticket))
        }
    }

    public func isServingActive() -> Bool {
        let now = now()
        return election.withLock { $0.isServingActive(now: now) }
    }

    public func status() -> ElectionStatus {
        let now = now()
        return election.withLock { $0.status(now: now) }
    }

    public var committed: SiteConfig { election.withLock { $0.state.committed } }

    /// Runs the event loop until the task is cancelled.
    /// - Throws: `AgentError` when the state can neither be saved nor reloaded.
    public func run() async throws(AgentError) {
        defer {
            let pending = waiting.withLock { state in
                state.stopped = true
                defer { state.continuations.removeAll() }
                return Array(state.continuations.values)
            }
            for continuation in pending { continuation.resume(returning: []) }
        }
        for await envelope in stream {
            let now = now()
            let (actions, deadline) = election.withLock { election in
                let actions = election.handle(envelope.event, now: now)
                return (actions, election.nextDeadline(now: now))
            }
            wakeup.publish(origin + deadline.sinceOrigin)
            let records = try await execute(actions)
            if let ticket = envelope.ticket {
                let continuation = waiting.withLock { $0.continuations.removeValue(forKey: ticket) }
                continuation?.resume(returning: records)
            }
        }
    }

    /// Stops the loop after the events already queued.
    public func finish() { input.finish() }

    private func execute(_ actions: [ElectionAction]) async throws(AgentError) -> [AuditRecord] {
        var records: [AuditRecord] = []
        for action in actions {
            switch action {
            case .persist(let state):
                let store = self.store
                do {
                    try await io.run { () throws(ElectionStoreError) in try store.save(state) }
                } catch {
                    logger.error("cannot save the election state; dropping this step's actions and reloading from disk", metadata: ["error": "\(error)"])
                    metrics.stateSaveFailures.increment()
                    // Through the audit log to the webhooks: a standby that cannot save adopts no
                    // new configuration, and nothing else would say so.
                    audit.append(AuditEntry(
                        time: Date(), agent: agent.rawValue, epoch: board.current.config.epoch.rawValue, kind: "stateSaveFailed",
                        message: "cannot save the election state in \(store.path): \(error); no new configuration is adopted until it can (check free space and permissions of data_dir)"))
                    try await reload()
                    return records
                }
            case .send(let message, let peer):
                peers.send(message, to: peer)
            case .broadcast(let message):
                peers.broadcast(message)
            case .startServingActive(let config):
                metrics.servingActive.set(1.0)
                logger.notice("serving active", metadata: ["config": "\(config)"])
            case .stopServingActive(let reason):
                metrics.servingActive.set(0.0)
                logger.warning("stopped serving active", metadata: ["reason": "\(reason)"])
            case .promote(let config):
                // The data plane (Orchestrator's `DataPlane`) wakes on the `adoptConfig` of the
                // same commit and runs the promotion; here the decision is recorded for operators.
                logger.notice("this site was promoted to active", metadata: ["config": "\(config)"])
                audit.append(AuditEntry(time: Date(), agent: agent.rawValue, epoch: config.epoch.rawValue, kind: "promote", message: "promoted: \(config)"))
            case .adoptConfig(let config):
                board.publish(config)
                metrics.recordCommitted(config)
                logger.notice("adopted configuration", metadata: ["config": "\(config)"])
            case .audit(let record):
                records.append(record)
                metrics.decisions.increment()
                logger.info("\(record.description)")
                audit.append(AuditEntry(time: Date(), agent: agent.rawValue, epoch: record.epoch.rawValue, kind: record.kind.rawValue, message: record.message))
            }
        }
        return records
    }

    /// Rebuilds the election from the last durable state after a failed save.
    private func reload() async throws(AgentError) {
        let store = self.store
        do {
            let state = try await io.run { () throws(ElectionStoreError) in try store.load() }
            guard let state else { throw AgentError("the election state file vanished after a failed save; restore \(store.path)") }
            let rebuilt = try Election(
                agent: agent, voters: voters, policy: policy, state: state, randomSeed: UInt64.random(in: 0...UInt64.max), now: now())
            election.withLock { $0 = rebuilt }
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError("cannot reload the election state after a failed save: \(error); the agent stops so it can be restarted")
        }
    }
}
