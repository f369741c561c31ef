import Synchronization

/// Correlates delivery reports with the sends waiting for them. Every record handed to
/// librdkafka gets an opaque number; its report finds the batch and slot by that number.
///
/// State only: librdkafka is never called from here, and continuations are resumed outside
/// the lock.
final class DeliveryTracker: Sendable {
    typealias Outcome = Result<DeliveredRecord, KafkaError>

    private struct Slot {
        var batch: UInt
        var index: Int
    }

    private struct Batch {
        var results: [Outcome?]
        var remaining: Int
        var continuation: CheckedContinuation<[Outcome], Never>?
    }

    private struct State {
        var nextID: UInt = 1
        var slots: [UInt: Slot] = [:]
        var batches: [UInt: Batch] = [:]
        /// Counts delivery report batches, so a send that found the queue full can wait for room.
        var generation: UInt64 = 0
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var closedReason: KafkaError?
    }

    private let state = Mutex(State())

    /// Why sends are refused, once the producer is shutting down.
    var closedReason: KafkaError? { state.withLock { $0.closedReason } }

    /// The number of records handed to librdkafka whose report has not arrived.
    var inFlight: Int { state.withLock { $0.slots.count } }

    var generation: UInt64 { state.withLock { $0.generation } }

    /// Opens a batch of `count` records; returns its number.
    func openBatch(count: Int) -> UInt {
        state.withLock { state in
            let id = state.nextID
            state.nextID &+= 1
            state.batches[id] = Batch(results: Array(repeating: nil, count: count), remaining: count)
            return id
        }
    }

    /// A new opaque for record `index` of `batch`, or the reason sends are refused.
    func register(batch: UInt, index: Int) -> Result<UInt, KafkaError> {
        state.withLock { state in
            if let reason = state.closedReason { return .failure(reason) }
            let id = state.nextID
            state.nextID &+= 1
            state.slots[id] = Slot(batch: batch, index: index)
            return .success(id)
        }
    }

    /// Forgets an opaque whose record librdkafka did not take (so it may be sent again).
    func unregister(_ opaque: UInt) {
        _ = state.withLock { $0.slots.removeValue(forKey: opaque) }
    }

    /// Records the outcome of record `index` in `batch` when it never reached librdkafka.
    func settle(batch: UInt, index: Int, _ outcome: Outcome) {
        let resume = state.withLock { state in Self.record(outcome, batch: batch, index: index, in: &state) }
        resume?()
    }

    /// Records delivery reports from the poll thread and wakes whoever waits for them.
    func deliver(_ reports: [RDDeliveryReport]) {
        var wakeups: [() -> Void] = []
        let waiters = state.withLock { state in
            for report in reports {
                guard let slot = state.slots.removeValue(forKey: report.opaque) else { continue }
                if let resume = Self.record(report.result, batch: slot.batch, index: slot.index, in: &state) {
                    wakeups.append(resume)
                }
            }
            state.generation &+= 1
            defer { state.roomWaiters.removeAll() }
            return state.roomWaiters
        }
        for wakeup in wakeups { wakeup() }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for every record of `batch` to be settled and returns their outcomes in order.
    func outcomes(of batch: UInt) async -> [Outcome] {
        await withCheckedContinuation { continuation in
            let ready: [Outcome]? = state.withLock { state in
                guard let remaining = state.batches[batch]?.remaining else { return [] }
                if remaining == 0, let entry = state.batches.removeValue(forKey: batch) {
                    return entry.results.map { $0 ?? .failure(KafkaError.shutDown("sending a record")) }
                }
                state.batches[batch]?.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Waits until a delivery report arrives after `generation` (room may have been made), or
    /// returns at once if one already has or the tracker is closed.
    func waitForRoom(after generation: UInt64) async {
        await withCheckedContinuation { continuation in
            let waitHere = state.withLock { state in
                guard state.generation == generation, state.closedReason == nil else { return false }
                state.roomWaiters.append(continuation)
                return true
            }
            if !waitHere { continuation.resume() }
        }
    }

    /// Refuses new sends from now on with `reason`. Returns false if already closed.
    func close(_ reason: KafkaError) -> Bool {
        let (first, waiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
            guard state.closedReason == nil else { return (false, []) }
            state.closedReason = reason
            defer { state.roomWaiters.removeAll() }
            return (true, state.roomWaiters)
        }
        for waiter in waiters { waiter.resume() }
        return first
    }

    /// Settles every record still waiting with `error` (after the poll thread has stopped,
    /// no report can arrive for them any more).
    func failAll(_ error: KafkaError) {
        var wakeups: [() -> Void] = []
        state.withLock { state in
            let slots = state.slots
            state.slots.removeAll()
            for (_, slot) in slots {
                if let resume = Self.record(.failure(error), batch: slot.batch, index: slot.index, in: &state) {
                    wakeups.append(resume)
                }
            }
        }
        for wakeup in wakeups { wakeup() }
    }

    /// Stores one outcome; returns the resumption to run outside the lock if the batch is done.
    ///
    /// - Important: Mutates the batch in place in the dictionary: a local copy of a batch would
    ///   make every store copy its whole results array.
    private static func record(_ outcome: Outcome, batch: UInt, index: Int, in state: inout State) -> (() -> Void)? {
        let isOpen = state.batches[batch].map { $0.results.indices.contains(index) && $0.results[index] == nil }
        guard isOpen == true else { return nil }
        state.batches[batch]?.results[index] = outcome
        state.batches[batch]?.remaining -= 1
        guard state.batches[batch]?.remaining == 0, state.batches[batch]?.continuation != nil,
            let entry = state.batches.removeValue(forKey: batch), let continuation = entry.continuation
        else { return nil }
        let settled = entry.results.map { $0 ?? .failure(KafkaError.shutDown("sending a record")) }
        return { continuation.resume(returning: settled) }
    }
}
