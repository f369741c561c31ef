import Logging

/// Settings every Kafka client shares: where the cluster is, who we are, and raw librdkafka
/// properties (security and anything not modelled here).
///
/// Secret properties are never printed: `description` masks them (see
/// ``KafkaConfigurationRedaction``).
public struct KafkaClientConfiguration: Sendable, CustomStringConvertible {
    /// `host:port` of one or more brokers to bootstrap from (`bootstrap.servers`).
    public var bootstrapServers: [String]
    /// Reported to brokers for quotas and logs (`client.id`). Default `switchback`.
    public var clientID: String
    /// How long a request may wait for a broker (`socket.timeout.ms`). Default 60 s.
    public var socketTimeout: Duration
    /// The least severe librdkafka log message forwarded to the logger. Default `.warning`.
    public var logLevel: Logger.Level
    /// librdkafka debug contexts (`debug`, for example `["broker", "protocol"]`). Default none.
    public var debugContexts: [String]
    /// Raw librdkafka properties, applied after the typed ones so they can override them,
    /// for example `security.protocol`, `sasl.mechanisms`, `sasl.password`, `ssl.ca.location`.
    public var properties: [String: String]

    public init(
        bootstrapServers: [String],
        clientID: String = "switchback",
        socketTimeout: Duration = .seconds(60),
        logLevel: Logger.Level = .warning,
        debugContexts: [String] = [],
        properties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.socketTimeout = socketTimeout
        self.logLevel = logLevel
        self.debugContexts = debugContexts
        self.properties = properties
    }

    /// The librdkafka properties these settings stand for, raw ``properties`` last.
    public var librdkafkaProperties: [String: String] {
        typedProperties.merging(properties) { $1 }
    }

    /// The properties of the typed settings alone.
    var typedProperties: [String: String] {
        var result: [String: String] = [
            "bootstrap.servers": bootstrapServers.joined(separator: ","),
            "client.id": clientID,
            "socket.timeout.ms": String(socketTimeout.wholeMilliseconds),
            "log_level": String(RDLogLevel.syslogLevel(for: logLevel)),
        ]
        if !debugContexts.isEmpty { result["debug"] = debugContexts.joined(separator: ",") }
        return result
    }

    public var description: String {
        "KafkaClientConfiguration(\(KafkaConfigurationRedaction.describe(librdkafkaProperties)))"
    }
}

extension Duration {
    /// The duration in whole milliseconds, saturating rather than trapping on huge values.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (fromSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = fromSeconds.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }

    /// The duration in milliseconds as librdkafka's `int` timeouts take them, clamped.
    var clampedMilliseconds: Int32 {
        Int32(clamping: wholeMilliseconds)
    }
}
