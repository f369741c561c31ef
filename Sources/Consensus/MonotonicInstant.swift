/// A point on one agent's monotonic clock, as an offset from an origin chosen by that agent.
///
/// The election never compares instants of different agents (their clocks share no origin);
/// messages carry durations instead. The runtime makes instants from `ContinuousClock`, tests
/// from a manual clock.
public struct MonotonicInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var sinceOrigin: Duration

    public init(sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    /// The instant `instant` of a continuous clock, measured from `origin` (the agent's start).
    public init(_ instant: ContinuousClock.Instant, origin: ContinuousClock.Instant) {
        self.sinceOrigin = origin.duration(to: instant)
    }

    public static let origin = MonotonicInstant(sinceOrigin: .zero)

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.sinceOrigin < rhs.sinceOrigin
    }

    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(sinceOrigin: lhs.sinceOrigin + rhs)
    }

    public static func - (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(sinceOrigin: lhs.sinceOrigin - rhs)
    }

    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        lhs.sinceOrigin - rhs.sinceOrigin
    }

    public var description: String { "t+\(sinceOrigin)" }
}

/// A small seeded random generator (SplitMix64), so the election's random back-off is
/// reproducible in tests and simulations. The runtime seeds it from the system generator;
/// two starts of one agent must use different seeds (lease rounds are told apart by it).
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
