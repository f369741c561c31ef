import Synchronization

/// Wakes every task waiting for "the next change" of some value the owner keeps: the
/// owner calls ``signal()`` after each change; a waiter returns at the next signal or when its
/// task is cancelled. Shared by the sidecar boards' long-polls.
///
/// - Important: A waiter reads ``generation`` *before* it looks at the value and passes it to
///   ``next(after:until:)``, so a change between its look and its wait is not missed.
final class ChangeSignal: Sendable {
    private struct Waiters {
        var continuations: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
        var generation: UInt64 = 0
    }

    private let waiters = Mutex(Waiters())

    /// How many signals there have been.
    var generation: UInt64 { waiters.withLock { $0.generation } }

    /// Wakes every waiter.
    func signal() {
        let woken = waiters.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            defer { state.continuations.removeAll() }
            return Array(state.continuations.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns at once if there was a ``signal()`` since `generation`, else at the next one,
    /// when `deadline` passes, or when the task is cancelled.
    func next(after generation: UInt64, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.next(after: generation) }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }

    private func next(after generation: UInt64) async {
        let id = waiters.withLock { state -> UInt64 in
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = waiters.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil || state.generation != generation { return true }
                    state.continuations[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = waiters.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.continuations.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
