import Foundation
import Synchronization

/// Every key the workload's producer had acknowledged and every delivery its consumer group
/// saw, with the phase of the run each happened in: lost = acknowledged and never delivered;
/// delivered twice = delivered more than once.
public final class Ledger: Sendable {
    /// Where the cluster put an acknowledged record.
    public struct Acknowledgement: Sendable, Hashable, Codable {
        public var site: String
        public var topic: String
        public var partition: Int32
        public var offset: Int64
    }

    /// A key delivered more than once: in which phases the extra deliveries came, whether one
    /// was a copy reconcile republished, and where the key had been acknowledged.
    public struct DeliveredTwice: Sendable, Hashable, Codable {
        /// The phase of each delivery beyond the first, in order.
        public var extraPhases: [String]
        /// Whether one of the deliveries carried `switchback-recovered`.
        public var recovered: Bool
        public var acknowledgement: Acknowledgement?
    }

    /// The counts so far, for the dashboard and the report.
    public struct Totals: Sendable, Hashable {
        public var sent = 0
        public var acknowledged = 0
        public var refused = 0
        public var delivered = 0
        public var deliveredDistinct = 0
        public var lost = 0
        public var duplicated = 0
        /// Deliveries that carried `switchback-recovered` (republished by reconcile).
        public var recovered = 0
    }

    private struct State {
        var acknowledged: [String: Acknowledgement] = [:]
        var deliveries: [String: Int] = [:]
        var recoveredKeys: Set<String> = []
        var sent = 0
        var refused = 0
        var delivered = 0
        var phase = "steady"
        /// Extra deliveries (beyond the first) per phase.
        var duplicatesByPhase: [String: Int] = [:]
        /// The phase of every delivery beyond the first, per key.
        var extraPhases: [String: [String]] = [:]
        /// Deliveries per whole second since the origin (what one checkpoint interval holds).
        var deliveriesPerSecond: [Int: Int] = [:]
    }

    private let state = Mutex(State())
    private let origin: ContinuousClock.Instant

    public init(origin: ContinuousClock.Instant) { self.origin = origin }

    /// Attributes what happens from now on to `phase` (a scenario step's phase).
    public func enter(phase: String) { state.withLock { $0.phase = phase } }

    public var phase: String { state.withLock { $0.phase } }

    func sent() { state.withLock { $0.sent += 1 } }

    func refused() { state.withLock { $0.refused += 1 } }

    func acknowledged(_ key: String, _ acknowledgement: Acknowledgement) {
        state.withLock { $0.acknowledged[key] = acknowledgement }
    }

    func delivered(_ key: String, recovered: Bool, at now: ContinuousClock.Instant = .now) {
        let second = Int((now - origin).seconds)
        state.withLock { state in
            state.delivered += 1
            let count = state.deliveries[key, default: 0] + 1
            state.deliveries[key] = count
            if count > 1 {
                state.duplicatesByPhase[state.phase, default: 0] += 1
                state.extraPhases[key, default: []].append(state.phase)
            }
            if recovered { state.recoveredKeys.insert(key) }
            state.deliveriesPerSecond[second, default: 0] += 1
        }
    }

    public var totals: Totals {
        state.withLock { state in
            var totals = Totals()
            totals.sent = state.sent
            totals.acknowledged = state.acknowledged.count
            totals.refused = state.refused
            totals.delivered = state.delivered
            totals.deliveredDistinct = state.deliveries.count
            totals.lost = state.acknowledged.keys.reduce(0) { $0 + (state.deliveries[$1] == nil ? 1 : 0) }
            totals.duplicated = state.deliveries.values.reduce(0) { $0 + max(0, $1 - 1) }
            totals.recovered = state.recoveredKeys.count
            return totals
        }
    }

    /// The records acknowledged at `site` so far, by key.
    public func acknowledgements(at site: String) -> [String: Acknowledgement] {
        state.withLock { $0.acknowledged.filter { $0.value.site == site } }
    }

    /// Extra deliveries per phase.
    public var duplicatesByPhase: [String: Int] { state.withLock { $0.duplicatesByPhase } }

    /// The records the group consumed in the whole second before `instant`.
    public func deliveries(inSecondBefore instant: ContinuousClock.Instant) -> Int {
        let second = Int((instant - origin).seconds) - 1
        return state.withLock { $0.deliveriesPerSecond[second] ?? 0 }
    }

    /// Keys delivered more than once, up to `limit` for each phase an extra delivery came in
    /// (so the few of a strict phase are not crowded out by the many an unplanned one allows),
    /// lowest keys first.
    public func deliveredTwice(limitPerPhase limit: Int) -> [String: DeliveredTwice] {
        state.withLock { state in
            var sample: [String: DeliveredTwice] = [:]
            var taken: [String: Int] = [:]
            for (key, phases) in state.extraPhases.sorted(by: { $0.key < $1.key }) {
                guard let phase = phases.first(where: { taken[$0, default: 0] < limit }) else { continue }
                taken[phase, default: 0] += 1
                sample[key] = DeliveredTwice(extraPhases: phases, recovered: state.recoveredKeys.contains(key), acknowledgement: state.acknowledged[key])
            }
            return sample
        }
    }

    /// The acknowledged keys never delivered, with where they were acknowledged (up to `limit`).
    public func lostKeys(limit: Int) -> [String: Acknowledgement] {
        state.withLock { state in
            var lost: [String: Acknowledgement] = [:]
            for (key, acknowledgement) in state.acknowledged where state.deliveries[key] == nil {
                lost[key] = acknowledgement
                if lost.count >= limit { break }
            }
            return lost
        }
    }

    /// Whether every acknowledged key has been delivered.
    public var allDelivered: Bool { state.withLock { s in s.acknowledged.keys.allSatisfy { s.deliveries[$0] != nil } } }
}
