import Consensus
import Synchronization

/// The messages waiting to go to one peer, sent one at a time in the order they were queued.
///
/// One sender per peer keeps the peer's view monotonic: a heartbeat queued after another is
/// never delivered before it. A heartbeat replaces the heartbeats still waiting (only the
/// newest state matters), and at most `capacity` messages wait — the oldest give way — so a
/// slow or unreachable peer costs a bounded queue, not a growing one. The election tolerates
/// the loss (heartbeats and lease renewals repeat, candidates retry).
final class PeerLane: Sendable {
    private struct State {
        var queue: [PeerMessage] = []
        /// Whether a task is sending; it keeps sending until the queue is empty.
        var sending = false
    }

    let capacity: Int
    private let state = Mutex(State())
    private let post: @Sendable (PeerMessage) async -> Void

    /// - Parameter post: delivers one message (awaited before the next is taken).
    init(capacity: Int = 32, post: @escaping @Sendable (PeerMessage) async -> Void) {
        self.capacity = max(1, capacity)
        self.post = post
    }

    /// Queues `message` behind the ones waiting; returns how many waiting messages it displaced.
    @discardableResult
    func enqueue(_ message: PeerMessage) -> Int {
        let (start, dropped) = state.withLock { state -> (Bool, Int) in
            let before = state.queue.count
            if case .heartbeat = message.body {
                state.queue.removeAll { if case .heartbeat = $0.body { true } else { false } }
            }
            if state.queue.count >= capacity { state.queue.removeFirst(state.queue.count - capacity + 1) }
            let dropped = before - state.queue.count
            state.queue.append(message)
            defer { state.sending = true }
            return (!state.sending, dropped)
        }
        if start { Task { await self.drain() } }
        return dropped
    }

    /// How many messages wait (not counting one being sent).
    var waiting: Int { state.withLock { $0.queue.count } }

    private func drain() async {
        while let next = state.withLock({ state -> PeerMessage? in
            guard !state.queue.isEmpty else {
                state.sending = false
                return nil
            }
            return state.queue.removeFirst()
        }) {
            await post(next)
        }
    }
}
