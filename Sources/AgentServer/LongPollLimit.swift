import Prometheus
import Synchronization

/// Bounds the sidecar long-polls waiting at once (`http.max_long_polls`): each holds a
/// connection and a descriptor, and a flood of them must not take those the peers need.
final class LongPollLimit: Sendable {
    let maximum: Int
    private let waiting = Atomic<Int>(0)
    private let gauge: Gauge

    /// - Parameter gauge: shows how many wait (`switchback_sidecar_long_polls`).
    init(maximum: Int, gauge: Gauge) {
        self.maximum = maximum
        self.gauge = gauge
    }

    /// One waiter's place; `release()` it when the answer is sent.
    struct Admission {
        fileprivate let limit: LongPollLimit
        func release() {
            let (_, now) = limit.waiting.subtract(1, ordering: .relaxed)
            limit.gauge.set(Double(now))
        }
    }

    /// A place for one more waiter, or `nil` when `maximum` already wait.
    func admit() -> Admission? {
        let (before, now) = waiting.add(1, ordering: .relaxed)
        guard before < maximum else {
            waiting.subtract(1, ordering: .relaxed)
            return nil
        }
        gauge.set(Double(now))
        return Admission(limit: self)
    }

    var current: Int { waiting.load(ordering: .relaxed) }
}
