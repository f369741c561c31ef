import KafkaClient
import Synchronization

/// Records read from the source and not yet copied: the reader task puts, the copy loop takes.
///
/// Bounded, so a slow target slows reading instead of filling memory. The copy loop's wait
/// also ends on ``wake()`` (control events, timers) and on ``close()``, so one place waits for
/// everything the loop reacts to.
final class RecordQueue: Sendable {
    private struct State {
        var records: [KafkaRecord] = []
        var head = 0
        var taker: CheckedContinuation<[KafkaRecord], Never>?
        /// How many records the waiting taker wants; 0 waits for a wake-up only.
        var takerMax = 0
        var putters: [CheckedContinuation<Void, Never>] = []
        var woken = false
        var closed = false
        var failure: MirrorError?
        /// The source consumer's positions after the last batch the reader put (see `notePositions`).
        var readerPositions: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]

        var count: Int { records.count - head }
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds a record, waiting while the queue is full. Returns at once once closed.
    func put(_ record: KafkaRecord) async {
        while true {
            enum Outcome { case added(CheckedContinuation<[KafkaRecord], Never>?, [KafkaRecord]), full, closed }
            let outcome: Outcome = state.withLock { state in
                if state.closed { return .closed }
                guard state.count < capacity else { return .full }
                state.records.append(record)
                if let taker = state.taker, state.takerMax > 0 {
                    state.taker = nil
                    return .added(taker, takeAll(&state, max: state.takerMax))
                }
                return .added(nil, [])
            }
            switch outcome {
            case .closed:
                return
            case .added(let taker, let records):
                taker?.resume(returning: records)
                return
            case .full:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state in
                        if state.closed || state.count < capacity { return true }
                        state.putters.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// Up to `max` records, waiting until there is at least one, or until ``wake()`` or
    /// ``close()`` (then possibly none). With `max` 0, waits for a wake-up only (paused).
    /// Only one task may take at a time.
    func take(max: Int) async -> [KafkaRecord] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[KafkaRecord], Never>) in
                let (ready, putters): ([KafkaRecord]?, [CheckedContinuation<Void, Never>]) = state.withLock { state in
                    if (max > 0 && state.count > 0) || state.woken || state.closed {
                        state.woken = false
                        let records = takeAll(&state, max: max)
                        let putters = state.putters
                        state.putters = []
                        return (records, putters)
                    }
                    state.taker = continuation
                    state.takerMax = max
                    return (nil, [])
                }
                for putter in putters { putter.resume() }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            wake()
        }
    }

    /// Ends the current or next ``take(max:)`` wait, with whatever is queued.
    func wake() {
        let taker: CheckedContinuation<[KafkaRecord], Never>? = state.withLock { state in
            guard let taker = state.taker else {
                state.woken = true
                return nil
            }
            state.taker = nil
            return taker
        }
        taker?.resume(returning: [])
    }

    /// Releases every waiter; later puts are dropped and takes return what is left.
    func close() {
        let (taker, putters) = state.withLock { state in
            state.closed = true
            let taker = state.taker
            state.taker = nil
            let putters = state.putters
            state.putters = []
            return (taker, putters)
        }
        taker?.resume(returning: [])
        for putter in putters { putter.resume() }
    }

    var count: Int { state.withLock { $0.count } }

    /// Called by the reader after putting a batch: the consumer's positions right after it.
    func notePositions(_ positions: [KafkaClient.TopicPartition: KafkaClient.Offset]) {
        state.withLock { $0.readerPositions = positions }
    }

    /// The reader's last noted positions of the partitions with no record queued: every record
    /// of those partitions below their position has been taken. Offsets below it that no record
    /// was taken for were passed by the consumer without a record (transaction markers, aborted
    /// transactions). Scans the queue: call it at a modest rate.
    func positionsOfPartitionsWithNothingQueued() -> [KafkaClient.TopicPartition: KafkaClient.Offset] {
        state.withLock { state in
            guard state.count > 0 else { return state.readerPositions }
            let queued = Set(state.records[state.head...].map(\.topicPartition))
            return state.readerPositions.filter { !queued.contains($0.key) }
        }
    }

    /// Records why the reader stopped and wakes the taker, who checks ``failure``.
    func fail(_ error: MirrorError) {
        state.withLock { $0.failure = error }
        wake()
    }

    /// Why the reader stopped, if it failed.
    var failure: MirrorError? { state.withLock { $0.failure } }

    private func takeAll(_ state: inout State, max: Int) -> [KafkaRecord] {
        let end = state.head + Swift.min(max, state.count)
        let taken = Array(state.records[state.head..<end])
        state.head = end
        if state.head == state.records.count {
            state.records.removeAll(keepingCapacity: true)
            state.head = 0
        } else if state.head > 4096, state.head * 2 > state.records.count {
            state.records.removeFirst(state.head)
            state.head = 0
        }
        return taken
    }
}
