import Consensus
import Foundation
import Synchronization

/// The committed configuration as the agent's parts see it, with waiters for its next change.
///
/// The election loop publishes every adopted configuration; the data plane and the sidecar
/// board wait here for the next one.
public final class ActiveConfigBoard: Sendable {
    public struct Published: Sendable, Hashable {
        public var config: SiteConfig
        public var since: Date
    }

    private let state: Mutex<Published>
    private let changes = ChangeSignal()

    public init(config: SiteConfig, since: Date = Date()) {
        state = Mutex(Published(config: config, since: since))
    }

    public var current: Published { state.withLock { $0 } }

    /// Publishes a newer configuration and wakes every waiter; older or equal epochs are ignored.
    public func publish(_ config: SiteConfig, since: Date = Date()) {
        let changed = state.withLock { state -> Bool in
            guard config.epoch > state.config.epoch else { return false }
            state = Published(config: config, since: since)
            return true
        }
        if changed { changes.signal() }
    }

    /// The current configuration once its epoch is above `after`, or when `timeout` has passed
    /// (then whatever is current), whichever comes first.
    public func wait(after: UInt64, timeout: Duration) async -> Published {
        let deadline = ContinuousClock.now + timeout
        while true {
            let generation = changes.generation
            let now = current
            if now.config.epoch.rawValue > after { return now }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return now }
            await changes.next(after: generation, until: deadline)
        }
    }
}
