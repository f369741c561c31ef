/// `http:` and the warnings about a listener that serves plain HTTP beyond this host.
extension ConfigurationParser {
    func parseHTTP(_ value: YAMLValue?) throws(ConfigurationError) -> HTTPSettings {
        guard let value else { return .defaults }
        let fields = try value.mapping(
            allowed: ["max_connections", "idle_timeout", "max_long_polls"], example: "{ max_connections: 512, idle_timeout: 10s, max_long_polls: 256 }")
        var settings = HTTPSettings.defaults
        if let connections = fields["max_connections"] { settings.maxConnections = try count(connections, example: "512") }
        if let idle = fields["idle_timeout"] { settings.idleTimeout = try idle.positiveDuration() }
        if let polls = fields["max_long_polls"] { settings.maxLongPolls = try count(polls, example: "256") }
        if let polls = fields["max_long_polls"], settings.maxLongPolls >= settings.maxConnections {
            throw polls.error(
                .invalidValue, "\(settings.maxLongPolls) long-polls would take every one of the \(settings.maxConnections) connections",
                fix: "keep max_long_polls below max_connections so peer messages and operator calls still get a connection")
        }
        return settings
    }

    /// A whole number from 1 to 1,000,000.
    private func count(_ value: YAMLValue, example: String) throws(ConfigurationError) -> Int {
        let text = try value.string(example: example)
        guard let number = Int(text), (1...1_000_000).contains(number) else {
            throw value.error(.invalidValue, "\"\(text)\" is not a whole number from 1 to 1000000", fix: "write a number such as \(example)")
        }
        return number
    }

    /// The warning for a listener that anyone on the network can reach over plain HTTP, or `nil`.
    static func plaintextWarning(listen: ListenAddress, tls: Bool) -> String? {
        guard !tls, !isLoopback(listen.host) else { return nil }
        return "listen: \(listen) is reachable from the network but there is no tls section: peer messages, the operator token and "
            + "sidecar answers travel in plain HTTP; add tls: (see deploy/examples/agent-dc-a.yaml) or listen on 127.0.0.1 behind a TLS proxy"
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
