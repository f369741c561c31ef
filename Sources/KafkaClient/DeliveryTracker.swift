import Synchronization

/// Correlates delivery reports with the sends waiting for them.
///
/// A record's opaque number is its batch number (high 32 bits) and its index in the batch (low
/// 32 bits), so handing a record over costs no lock; the lock is taken once per send call and
/// once per batch of delivery reports. State only: librdkafka is never called from here, and
/// continuations are resumed outside the lock.
final class DeliveryTracker: Sendable {
    typealias Outcome = Result<DeliveredRecord, KafkaError>

    private struct Batch {
        var results: [Outcome?]
        var remaining: Int
        var continuation: CheckedContinuation<[Outcome], Never>?
    }

    private struct State {
        var nextBatch: UInt32 = 1
        var batches: [UInt32: Batch] = [:]
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var closedReason: KafkaError?
    }

    private let state = Mutex(State())
    private let closed = Atomic(false)
    /// Counts delivery report batches, so a send that found the queue full can wait for room.
    private let deliveries = Atomic<UInt64>(0)
    private let handedOver = Atomic(0)

    /// The most records one send call may carry (the index must fit the opaque's low half).
    static let maxBatchCount = Int(UInt32.max)

    /// Why sends are refused, once the producer is shutting down.
    var closedReason: KafkaError? {
        guard closed.load(ordering: .acquiring) else { return nil }
        return state.withLock { $0.closedReason }
    }

    /// The number of records handed to librdkafka whose report has not arrived.
    var inFlight: Int { max(0, handedOver.load(ordering: .relaxed)) }

    var generation: UInt64 { deliveries.load(ordering: .acquiring) }

    static func opaque(batch: UInt32, index: Int) -> UInt {
        UInt(batch) << 32 | UInt(UInt32(truncatingIfNeeded: index))
    }

    /// Opens a batch of `count` records (at most ``maxBatchCount``); returns its number.
    func openBatch(count: Int) -> UInt32 {
        state.withLock { state in
            var id = state.nextBatch
            // Skip numbers still in use after the 32-bit counter wrapped.
            while state.batches[id] != nil || id == 0 { id &+= 1 }
            state.nextBatch = id &+ 1
            state.batches[id] = Batch(results: Array(repeating: nil, count: count), remaining: count)
            return id
        }
    }

    /// Notes that librdkafka took a record.
    func recordHandedOver() {
        handedOver.add(1, ordering: .relaxed)
    }

    /// Records the outcome of a record that never reached librdkafka.
    func settle(batch: UInt32, index: Int, _ outcome: Outcome) {
        let resume = state.withLock { state in Self.record(outcome, batch: batch, index: index, in: &state) }
        resume?()
    }

    /// Records delivery reports from the poll thread and wakes whoever waits for them.
    func deliver(_ reports: [RDDeliveryReport]) {
        var wakeups: [() -> Void] = []
        var matched = 0
        let waiters = state.withLock { state in
            for report in reports {
                let batch = UInt32(truncatingIfNeeded: report.opaque >> 32)
                let index = Int(UInt32(truncatingIfNeeded: report.opaque))
                if let resume = Self.record(report.result, batch: batch, index: index, in: &state) {
                    wakeups.append(resume)
                }
                matched += 1
            }
            // Counted under the lock, where waitForRoom checks it, so no wake-up is lost.
            deliveries.add(1, ordering: .releasing)
            defer { state.roomWaiters.removeAll() }
            return state.roomWaiters
        }
        handedOver.subtract(matched, ordering: .relaxed)
        for wakeup in wakeups { wakeup() }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for every record of `batch` to be settled and returns their outcomes in order.
    func outcomes(of batch: UInt32) async -> [Outcome] {
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
                guard deliveries.load(ordering: .acquiring) == generation, state.closedReason == nil else { return false }
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
        closed.store(true, ordering: .releasing)
        for waiter in waiters { waiter.resume() }
        return first
    }

    /// Settles every record still waiting with `error` (after the poll thread has stopped,
    /// no report can arrive for them any more).
    func failAll(_ error: KafkaError) {
        var wakeups: [() -> Void] = []
        state.withLock { state in
            for batch in Array(state.batches.keys) {
                let open = state.batches[batch].map { entry in entry.results.indices.filter { entry.results[$0] == nil } } ?? []
                for index in open {
                    if let resume = Self.record(.failure(error), batch: batch, index: index, in: &state) {
                        wakeups.append(resume)
                    }
                }
            }
        }
        handedOver.store(0, ordering: .relaxed)
        for wakeup in wakeups { wakeup() }
    }

    /// Stores one outcome; returns the resumption to run outside the lock if the batch is done.
    ///
    /// - Important: Mutates the batch in place in the dictionary: a local copy of a batch would
    ///   make every store copy its whole results array.
    private static func record(_ outcome: Outcome, batch: UInt32, index: Int, in state: inout State) -> (() -> Void)? {
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
