import Crypto
import Foundation

/// The body shape a receiver expects.
public enum WebhookFormat: String, Hashable, Sendable {
    /// The alert itself as JSON.
    case generic
    /// A Slack incoming webhook: `{"text": …}`.
    case slack
    /// PagerDuty Events API v2, with the secret as the routing key.
    case pagerduty
}

/// One configured receiver.
public struct WebhookEndpoint: Sendable, CustomStringConvertible {
    public let url: String
    public let format: WebhookFormat
    /// Signs generic and Slack deliveries; PagerDuty's routing key. Never logged.
    private let secret: String?

    /// - Throws: `AlertError` when the URL is not http(s) or a PagerDuty webhook has no secret.
    public init(url: String, format: WebhookFormat, secret: String?) throws(AlertError) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty
        else {
            throw AlertError("webhook URL \"\(Self.redact(url))\" is not an http(s) URL; write one such as https://hooks.example/switchback")
        }
        if format == .pagerduty && (secret ?? "").isEmpty {
            throw AlertError("the pagerduty webhook \(Self.redact(url)) has no secret; set secret to the PagerDuty integration's routing key")
        }
        self.url = url
        self.format = format
        self.secret = secret
    }

    /// Scheme and host only: webhook paths and queries often hold tokens (Slack's do).
    public var description: String { "\(format.rawValue) \(Self.redact(url))" }

    /// A name for this endpoint's outbox directory that reveals nothing of its URL.
    public var outboxName: String {
        let digest = SHA256.hash(data: Data((format.rawValue + " " + url).utf8))
        return "webhook-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func redact(_ url: String) -> String {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme, let host = parsed.host else { return "<unparsable URL>" }
        let port = parsed.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…"
    }

    /// The HTTP request that delivers `alert`, signed at `now` when there is a secret.
    public func request(for alert: Alert, now: Date) throws(AlertError) -> WebhookRequest {
        let body: Data
        do {
            switch format {
            case .generic:
                body = try Alert.encoder().encode(alert)
            case .slack:
                body = try Alert.encoder().encode(["text": alert.summary])
            case .pagerduty:
                body = try Alert.encoder().encode(PagerDutyEvent(alert: alert, routingKey: secret ?? ""))
            }
        } catch {
            throw AlertError("cannot encode alert \(alert.id) for \(self): \(error)")
        }
        var headers = [("Content-Type", "application/json"), ("User-Agent", "switchback")]
        if format != .pagerduty, let secret, !secret.isEmpty {
            let timestamp = String(Int64(now.timeIntervalSince1970))
            headers.append(("X-Switchback-Timestamp", timestamp))
            headers.append(("X-Switchback-Signature", "sha256=" + Self.signature(secret: secret, timestamp: timestamp, body: body)))
        }
        return WebhookRequest(url: url, headers: headers, body: [UInt8](body))
    }

    /// Hex HMAC-SHA256 of `timestamp + "." + body` with `secret`: the timestamp is signed too, so
    /// a receiver that rejects old timestamps cannot be fed a replayed delivery.
    public static func signature(secret: String, timestamp: String, body: Data) -> String {
        var signed = Data(timestamp.utf8)
        signed.append(UInt8(ascii: "."))
        signed.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }
}

/// A delivery ready to send.
public struct WebhookRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
}

/// PagerDuty Events API v2 `trigger` event.
struct PagerDutyEvent: Encodable {
    struct Payload: Encodable {
        var summary: String
        var source: String
        var severity: String
        var timestamp: String
        var component: String?
        var group: String
        var custom_details: [String: String]
    }

    var routing_key: String
    var event_action = "trigger"
    var dedup_key: String
    var payload: Payload

    init(alert: Alert, routingKey: String) {
        routing_key = routingKey
        dedup_key = alert.id.rawValue
        // PagerDuty refuses summaries over 1024 characters.
        payload = Payload(
            summary: String(alert.summary.prefix(1024)), source: alert.agent, severity: alert.severity.rawValue,
            timestamp: Alert.timestamp(alert.time), component: alert.site, group: "switchback",
            custom_details: ["kind": alert.kind.rawValue, "epoch": "\(alert.epoch)", "message": alert.message])
    }
}
