import Consensus
import Foundation
import Synchronization

/// What `GET /v1/active` answers: the committed active site and how to reach its cluster.
public struct ActiveAnswer: Codable, Hashable, Sendable {
    public var epoch: UInt64
    public var activeSite: String
    /// `bootstrap.servers` of the active site's cluster.
    public var bootstrapServers: [String]
    /// When this agent learned of this configuration (wall clock, ISO 8601).
    public var since: Date
    /// Whether this agent's own site serves as active right now (holds a valid lease).
    public var servingHere: Bool
    public var mirrorFrom: String
    public var mirrorTo: String

    public init(
        epoch: UInt64, activeSite: String, bootstrapServers: [String], since: Date, servingHere: Bool,
        mirrorFrom: String, mirrorTo: String
    ) {
        self.epoch = epoch
        self.activeSite = activeSite
        self.bootstrapServers = bootstrapServers
        self.since = since
        self.servingHere = servingHere
        self.mirrorFrom = mirrorFrom
        self.mirrorTo = mirrorTo
    }
}

/// The committed configuration as sidecars see it, with long-poll waiters for its next change.
///
/// The election loop publishes every adopted configuration; `GET /v1/active?wait=…&after=E`
/// waits here until the epoch exceeds `E` or the wait runs out.
public final class ActiveConfigBoard: Sendable {
    public struct Published: Sendable, Hashable {
        public var config: SiteConfig
        public var since: Date
    }

    private struct State {
        var current: Published
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(config: SiteConfig, since: Date = Date()) {
        state = Mutex(State(current: Published(config: config, since: since)))
    }

    public var current: Published { state.withLock { $0.current } }

    /// Publishes a newer configuration and wakes every waiter; older or equal epochs are ignored.
    public func publish(_ config: SiteConfig, since: Date = Date()) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard config.epoch > state.current.config.epoch else { return [] }
            state.current = Published(config: config, since: since)
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            return waiters
        }
        for waiter in woken { waiter.resume() }
    }

    /// The current configuration once its epoch is above `after`, or when `timeout` has passed
    /// (then whatever is current), whichever comes first.
    public func wait(after: UInt64, timeout: Duration) async -> Published {
        let deadline = ContinuousClock.now + timeout
        while true {
            let now = current
            if now.config.epoch.rawValue > after { return now }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return now }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.nextChange() }
                group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Returns at the next publish, or when the calling task is cancelled.
    private func nextChange() async {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
