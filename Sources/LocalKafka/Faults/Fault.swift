import KafkaWire

/// A failure the control endpoint can inject into a running broker, to stand in for a
/// datacenter that vanished, a slow link or a misbehaving broker.
public enum Fault: Sendable, Equatable, CustomStringConvertible {
    /// Drop open connections and answer nothing: clients see silence, as when a site is gone.
    /// New connections are accepted (the kernel does that) and their requests held, to be
    /// served when the fault heals, as TCP would deliver them once the site is back.
    case blackhole
    /// Close every new connection at once, as a host with its Kafka process down.
    case refuse
    /// Delay every request (of `api`, or of all APIs when nil) by `delay`.
    case latency(Duration, api: ApiKey?)
    /// Answer the next `count` requests of `api` with `error` instead of serving them.
    case failRequests(api: ApiKey, error: KafkaErrorCode, count: Int)

    public var description: String {
        switch self {
        case .blackhole: "blackhole"
        case .refuse: "refuse"
        case .latency(let delay, let api): "latency \(delay) on \(api.map { "\($0)" } ?? "all requests")"
        case .failRequests(let api, let error, let count): "fail next \(count) \(api) requests with \(error)"
        }
    }
}
