/// Exponential back-off with jitter between delivery attempts.
///
/// The n-th retry waits between half and all of `min(maximum, initial * 2^(n-1))`: the
/// doubling keeps a dead receiver from being hammered, the jitter keeps the agents of
/// every site from retrying in step after a shared outage.
public struct RetryBackoff: Sendable, Hashable {
    /// The wait before the first retry (at most). Default 1 s.
    public var initial: Duration
    /// The longest wait between attempts. Default 5 minutes.
    public var maximum: Duration

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(300)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The wait before retry number `retry` (1 for the first), given `random` in [0, 1].
    public func delay(retry: Int, random: Double) -> Duration {
        var ceiling = initial
        var step = 1
        while step < retry && ceiling < maximum {
            ceiling *= 2
            step += 1
        }
        ceiling = min(ceiling, maximum)
        let jitter = min(max(random, 0), 1)
        return ceiling / 2 + (ceiling / 2) * jitter
    }
}
