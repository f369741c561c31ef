/// `http:` — the limits of the agent's HTTP listener, so a flood of connections (or of sidecar
/// long-polls) cannot take the descriptors the election needs.
///
/// Beyond `max_connections` the agent stops accepting: new connections wait in the kernel's
/// accept queue and are served, in order, as others close; `idle_timeout` closes connections
/// that send nothing (no TLS handshake, no request, a request that stalls), so held sockets are
/// given back. Peer messages and operator calls are short; sidecar long-polls are capped at
/// `max_long_polls` so they cannot take every connection.
public struct HTTPSettings: Sendable, Hashable {
    /// Open connections served at once. Default 512.
    public var maxConnections: Int
    /// A connection with no traffic for this long (handshake, request head or body, or between
    /// requests) is closed; a request being answered (a long-poll) is not idle. Default `10s`.
    public var idleTimeout: Duration
    /// Sidecar long-polls (`/v1/active?wait=`) waiting at once; more get a 503. Default 256.
    public var maxLongPolls: Int

    public static let defaults = HTTPSettings(maxConnections: 512, idleTimeout: .seconds(10), maxLongPolls: 256)

    public init(maxConnections: Int, idleTimeout: Duration, maxLongPolls: Int) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.maxLongPolls = maxLongPolls
    }
}
