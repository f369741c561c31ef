import Foundation
import Synchronization

/// The sidecar's current answer, recomputed whenever one of its inputs may have changed, with
/// long-poll waiters woken on every change of what they would be answered (epoch, state,
/// `servingHere`), not only on a new epoch.
///
/// Inputs change in places that do not all announce it (a lease runs out with the clock, a
/// majority goes quiet), so ``SidecarRefreshService`` also recomputes on a short period;
/// the parts that do know (the election adopting a configuration, the data plane changing
/// phase) call ``refresh()`` at once.
public final class SidecarBoard: Sendable {
    private let compute: @Sendable () -> ActiveAnswer
    private let answer: Mutex<ActiveAnswer>
    private let changes = ChangeSignal()

    /// - Parameter compute: reads the inputs at the current instant and builds the answer.
    public init(compute: @escaping @Sendable () -> ActiveAnswer) {
        self.compute = compute
        answer = Mutex(compute())
    }

    /// The answer as of now.
    public func current() -> ActiveAnswer {
        refresh()
        return answer.withLock { $0 }
    }

    /// Recomputes the answer and wakes the waiters if what they would be answered changed.
    public func refresh() {
        let fresh = compute()
        let changed = answer.withLock { answer -> Bool in
            defer { answer = fresh }
            return answer.key != fresh.key || answer.bootstrapServers != fresh.bootstrapServers
        }
        if changed { changes.signal() }
    }

    /// The answer once its key differs from `key`, or the current one when `timeout` has passed.
    public func wait(whileKey key: ActiveAnswer.Key, timeout: Duration) async -> ActiveAnswer {
        let deadline = ContinuousClock.now + timeout
        while true {
            let generation = changes.generation
            let now = current()
            if now.key != key { return now }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return now }
            await changes.next(after: generation, until: deadline)
        }
    }
}

extension SidecarBoard {
    /// Reaches a board that is built after the parts that must wake it (the board's answer
    /// reads the data plane, which must call ``SidecarBoard/refresh()`` on every change).
    final class Relay: Sendable {
        private let board = Mutex<SidecarBoard?>(nil)

        func connect(_ board: SidecarBoard) { self.board.withLock { $0 = board } }

        func refresh() { board.withLock { $0 }?.refresh() }
    }
}
