import Alerts
import Crypto
import Foundation
import Testing
import TestSupport

@Suite("Webhook formats over real HTTP", .timeLimit(.minutes(1)))
struct WebhookFormatTests {
    /// The signature header must be the HMAC of timestamp "." body with the secret.
    func expectSigned(_ delivery: WebhookReceiver.Delivery, secret: String) throws {
        let timestamp = try #require(delivery.header("X-Switchback-Timestamp"))
        let signature = try #require(delivery.header("X-Switchback-Signature"))
        #expect(timestamp == "1790000100")
        let code = HMAC<SHA256>.authenticationCode(
            for: Data((timestamp + ".").utf8) + Data(delivery.body), using: SymmetricKey(data: Data(secret.utf8)))
        #expect(signature == "sha256=" + code.map { String(format: "%02x", $0) }.joined())
        let forged = HMAC<SHA256>.authenticationCode(
            for: Data((timestamp + ".").utf8) + Data(delivery.body), using: SymmetricKey(data: Data("other".utf8)))
        #expect(signature != "sha256=" + forged.map { String(format: "%02x", $0) }.joined())
    }

    @Test("generic: the alert as JSON, signed with the secret")
    func generic() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: "s3cret")
                try await withDelivery(endpoint: endpoint, directory: directory, clock: ManualClock()) { delivery in
                    let alert = sampleAlert(1)
                    try await delivery.enqueue(alert)
                    #expect(await eventually { receiver.accepted.count == 1 })
                    let received = try #require(receiver.deliveries.first)
                    #expect(received.header("Content-Type") == "application/json")
                    try expectSigned(received, secret: "s3cret")
                    let json = try #require(received.json)
                    #expect(json["id"] as? String == alert.id.rawValue)
                    #expect(json["kind"] as? String == "failover")
                    #expect(json["severity"] as? String == "critical")
                    #expect(json["site"] as? String == "dc-b")
                    #expect(json["epoch"] as? Int == 3)
                    #expect(json["message"] as? String == "alert number 1")
                    #expect((json["time"] as? String)?.hasPrefix("2026-") == true)
                    #expect(await eventually { delivery.outbox.depth == 0 })
                }
            }
        }
    }

    @Test("generic without a secret: no signature headers")
    func unsigned() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: nil)
                try await withDelivery(endpoint: endpoint, directory: directory, clock: ManualClock()) { delivery in
                    try await delivery.enqueue(sampleAlert(1))
                    #expect(await eventually { receiver.accepted.count == 1 })
                    let received = try #require(receiver.deliveries.first)
                    #expect(received.header("X-Switchback-Signature") == nil)
                    #expect(received.header("X-Switchback-Timestamp") == nil)
                }
            }
        }
    }

    @Test("slack: one readable text line, signed")
    func slack() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .slack, secret: "hook-key")
                try await withDelivery(endpoint: endpoint, directory: directory, clock: ManualClock()) { delivery in
                    try await delivery.enqueue(sampleAlert(2, kind: .siteDown, severity: .warning))
                    #expect(await eventually { receiver.accepted.count == 1 })
                    let received = try #require(receiver.deliveries.first)
                    try expectSigned(received, secret: "hook-key")
                    let json = try #require(received.json)
                    #expect(json.keys.sorted() == ["text"])
                    let text = try #require(json["text"] as? String)
                    #expect(text == "[WARNING] dc-b: siteDown (dc-b), epoch 3: alert number 2")
                    #expect(!text.contains("\n"))
                }
            }
        }
    }

    @Test("pagerduty: Events API v2 trigger with the secret as routing key, no signature")
    func pagerduty() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .pagerduty, secret: "R0UTING")
                try await withDelivery(endpoint: endpoint, directory: directory, clock: ManualClock()) { delivery in
                    let alert = sampleAlert(3, kind: .leaseLost)
                    try await delivery.enqueue(alert)
                    #expect(await eventually { receiver.accepted.count == 1 })
                    let received = try #require(receiver.deliveries.first)
                    #expect(received.header("X-Switchback-Signature") == nil)
                    let json = try #require(received.json)
                    #expect(json["routing_key"] as? String == "R0UTING")
                    #expect(json["event_action"] as? String == "trigger")
                    #expect(json["dedup_key"] as? String == alert.id.rawValue)
                    let payload = try #require(json["payload"] as? [String: Any])
                    #expect(payload["summary"] as? String == alert.summary)
                    #expect(payload["source"] as? String == "dc-b")
                    #expect(payload["severity"] as? String == "critical")
                    #expect((payload["timestamp"] as? String)?.hasPrefix("2026-") == true)
                }
            }
        }
    }

    @Test("a pagerduty webhook without a routing key and a non-HTTP URL are refused at set-up")
    func refusedEndpoints() throws {
        #expect(throws: AlertError.self) { try WebhookEndpoint(url: "https://events.pagerduty.com/v2/enqueue", format: .pagerduty, secret: nil) }
        #expect(throws: AlertError.self) { try WebhookEndpoint(url: "ftp://hooks.example/x", format: .generic, secret: nil) }
    }

    @Test("descriptions show scheme and host only, never the path's token or the secret")
    func redaction() throws {
        let endpoint = try WebhookEndpoint(url: "https://hooks.slack.com/services/T000/B000/XXXXSECRET", format: .slack, secret: "hush")
        #expect(endpoint.description == "slack https://hooks.slack.com/…")
        #expect(!endpoint.outboxName.contains("XXXX"))
        #expect(!"\(endpoint)".contains("hush"))
    }
}
