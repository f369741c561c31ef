import Foundation

/// What happened, in the words an on-call engineer needs.
public enum AlertKind: String, Hashable, Codable, Sendable {
    /// This agent's site was promoted to active.
    case promoted
    /// A new active-site configuration was committed (a failover or switchover).
    case failover
    /// This site stopped serving active (its lease ran out or a newer epoch exists).
    case leaseLost
    /// This site's lease was acknowledged by a majority; it serves active.
    case leaseAcquired
    /// The election saw a site's cluster fail.
    case failureDetected
    /// A site's cluster probe failed after being healthy.
    case siteDown
    /// A site's cluster probe succeeded again after failing.
    case siteUp
    /// A candidacy was given up because another configuration won.
    case electionAbandoned
    /// Automatic changes are blocked until an operator acknowledges.
    case blocked
    /// An operator changed something through the API.
    case operatorAction
    /// Something that works but deserves attention.
    case warning
    /// The agent cannot save its election state (disk full, read-only, I/O error): until it
    /// can, it adopts no new configuration and a standby cannot be promoted.
    case stateSaveFailed
}

/// How urgently a person should look (PagerDuty's severities of the same names).
public enum AlertSeverity: String, Hashable, Codable, Sendable {
    case critical, warning, info
}

/// Identifies one alert across delivery attempts and restarts, so receivers can drop
/// repeats (PagerDuty's `dedup_key`).
public struct AlertID: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// One alert as the outbox stores it and the generic format sends it.
public struct Alert: Hashable, Codable, Sendable {
    public var id: AlertID
    public var kind: AlertKind
    public var severity: AlertSeverity
    /// The agent that raised it.
    public var agent: String
    /// The site it is about, when it is about one.
    public var site: String?
    /// The election epoch at the time.
    public var epoch: UInt64
    public var message: String
    /// Wall-clock time it was raised.
    public var time: Date

    /// - Parameter id: defaults to agent, kind, epoch, site and the time in milliseconds, which
    ///   is unique per agent for all practical purposes and the same on every delivery attempt.
    public init(
        id: AlertID? = nil, kind: AlertKind, severity: AlertSeverity, agent: String, site: String?, epoch: UInt64,
        message: String, time: Date
    ) {
        let milliseconds = Int64(exactly: (time.timeIntervalSince1970 * 1000).rounded()) ?? 0
        self.id = id ?? AlertID([agent, kind.rawValue, "e\(epoch)", site, "\(milliseconds)"].compactMap { $0 }.joined(separator: "."))
        self.kind = kind
        self.severity = severity
        self.agent = agent
        self.site = site
        self.epoch = epoch
        self.message = message
        self.time = time
    }

    /// One readable line (Slack text, PagerDuty summary).
    public var summary: String {
        let about = site.map { " (\($0))" } ?? ""
        return "[\(severity.rawValue.uppercased())] \(agent): \(kind.rawValue)\(about), epoch \(epoch): \(message)"
    }
}

extension Alert {
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// JSON with ISO 8601 times and sorted keys, as stored and as sent in the generic format.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
            }
            return date
        }
        return decoder
    }
}
