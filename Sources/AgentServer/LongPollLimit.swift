import Synchronization

/// Bounds the sidecar long-polls waiting at once (`http.max_long_polls`): each holds a
/// connection and a descriptor, and a flood of them must not take those the peers need.
final class LongPollLimit: Sendable {
    let maximum: Int
    private let waiting = Atomic<Int>(0)

    init(maximum: Int) { self.maximum = maximum }

    /// One waiter's place; `release()` it when the answer is sent.
    struct Admission {
        fileprivate let limit: LongPollLimit
        func release() { limit.waiting.subtract(1, ordering: .relaxed) }
    }

    /// A place for one more waiter, or `nil` when `maximum` already wait.
    func admit() -> Admission? {
        let (before, _) = waiting.add(1, ordering: .relaxed)
        guard before < maximum else {
            waiting.subtract(1, ordering: .relaxed)
            return nil
        }
        return Admission(limit: self)
    }

    var current: Int { waiting.load(ordering: .relaxed) }
}
