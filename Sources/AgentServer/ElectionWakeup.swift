import Synchronization

/// The election's next deadline as last published by `ElectionHost`, for the timer task that
/// wakes the election then (issue 11, item 10: an idle agent wakes about once a second, not
/// twenty times, and a deadline an event brings forward is still met to the millisecond).
final class ElectionWakeup: Sendable {
    private struct State {
        var deadline: ContinuousClock.Instant
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state: Mutex<State>

    init(deadline: ContinuousClock.Instant) { state = Mutex(State(deadline: deadline)) }

    /// The deadline and the generation it was published in.
    var current: (deadline: ContinuousClock.Instant, generation: UInt64) {
        state.withLock { ($0.deadline, $0.generation) }
    }

    /// Publishes a new deadline (after every handled event) and wakes the timer.
    func publish(_ deadline: ContinuousClock.Instant) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.deadline = deadline
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once a deadline newer than `generation` is published, or the task is cancelled.
    func changed(after generation: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Sleeps until `deadline` or until a deadline newer than `generation` is published;
    /// returns whether the deadline was reached.
    func sleep(until deadline: ContinuousClock.Instant, generation: UInt64) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await Task.sleep(until: deadline, tolerance: .milliseconds(1), clock: .continuous)
                    return true
                } catch {
                    return false
                }
            }
            group.addTask {
                await self.changed(after: generation)
                return false
            }
            let reached = await group.next() ?? false
            group.cancelAll()
            return reached
        }
    }
}
