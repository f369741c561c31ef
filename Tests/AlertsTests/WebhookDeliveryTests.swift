import Alerts
import Foundation
import InMemoryLogging
import Logging
import Testing
import TestSupport

@Suite("Webhook delivery: retries, order, give-up", .timeLimit(.minutes(1)))
struct WebhookDeliveryTests {
    @Test("back-off doubles up to the maximum, with the jitter between half and all of it")
    func backoff() {
        let backoff = RetryBackoff(initial: .seconds(1), maximum: .seconds(8))
        #expect(backoff.delay(retry: 1, random: 0) == .milliseconds(500))
        #expect(backoff.delay(retry: 1, random: 1) == .seconds(1))
        #expect(backoff.delay(retry: 2, random: 0.5) == .milliseconds(1500))
        #expect(backoff.delay(retry: 4, random: 1) == .seconds(8))
        #expect(backoff.delay(retry: 60, random: 1) == .seconds(8))
        #expect(backoff.delay(retry: 60, random: 7) == .seconds(8))
    }

    @Test("a 500 and a timeout are retried after growing back-offs, then delivered once")
    func retriesThenSuccess() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                receiver.script([.status(500), .hang, .status(200)])
                let clock = ManualClock()
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: "k")
                try await withDelivery(endpoint: endpoint, directory: directory, clock: clock, timeout: .milliseconds(300)) { delivery in
                    let alert = sampleAlert(1)
                    try await delivery.enqueue(alert)
                    // After the 500: the first back-off, 1 s with the jitter at one half → 750 ms.
                    #expect(await eventually { clock.sleeperCount == 1 })
                    #expect(clock.requestedSleeps == [.milliseconds(750)])
                    #expect(receiver.deliveries.count == 1)
                    clock.advance(by: .milliseconds(750))
                    // The second attempt hangs until the request timeout; then 2 s → 1.5 s.
                    #expect(await eventually { clock.sleeperCount == 1 && clock.requestedSleeps.count == 2 })
                    #expect(clock.requestedSleeps.last == .milliseconds(1500))
                    #expect(delivery.outbox.depth == 1, "the alert left the outbox before it was delivered")
                    clock.advance(by: .milliseconds(1500))
                    #expect(await eventually { receiver.accepted.count == 1 })
                    #expect(await eventually { delivery.outbox.depth == 0 })
                    #expect(receiver.deliveries.count == 3)
                    #expect(receiver.deliveries.allSatisfy { $0.alertID == alert.id.rawValue })
                }
            }
        }
    }

    @Test("a 4xx other than 408/429 is given up with an error, and the next alert goes out")
    func clientErrorGivesUp() async throws {
        let logs = InMemoryLogHandler()
        let logger = Logger(label: "test.alerts", factory: { _ in logs })
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                receiver.script([.status(401)])
                let clock = ManualClock()
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: "wrong")
                try await withDelivery(endpoint: endpoint, directory: directory, clock: clock, logger: logger) { delivery in
                    try await delivery.enqueue(sampleAlert(1))
                    try await delivery.enqueue(sampleAlert(2))
                    #expect(await eventually { receiver.accepted.count == 1 })
                    #expect(await eventually { delivery.outbox.depth == 0 })
                    #expect(receiver.deliveries.map(\.alertID) == [sampleAlert(1).id.rawValue, sampleAlert(2).id.rawValue])
                    #expect(clock.requestedSleeps.isEmpty, "a 401 was retried")
                    let errors = logs.entries.filter { $0.level == .error }
                    #expect(errors.count == 1)
                    #expect(errors.first?.message.description.contains("401") == true)
                    #expect(!logs.entries.contains { "\($0.message) \($0.metadata)".contains("wrong") }, "the secret was logged")
                }
            }
        }
    }

    @Test("429 is retried like a 5xx")
    func tooManyRequestsRetried() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                receiver.script([.status(429)])
                let clock = ManualClock()
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .slack, secret: nil)
                try await withDelivery(endpoint: endpoint, directory: directory, clock: clock) { delivery in
                    try await delivery.enqueue(sampleAlert(1))
                    #expect(await eventually { clock.sleeperCount == 1 })
                    clock.advance(by: .seconds(1))
                    #expect(await eventually { receiver.accepted.count == 1 })
                    #expect(receiver.deliveries.count == 2)
                }
            }
        }
    }

    @Test("alerts arrive in the order raised, also when the first is retried")
    func orderKept() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                receiver.script([.status(503), .status(502)])
                let clock = ManualClock()
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: nil)
                try await withDelivery(endpoint: endpoint, directory: directory, clock: clock) { delivery in
                    for number in 1...5 { try await delivery.enqueue(sampleAlert(number)) }
                    #expect(await eventually { clock.sleeperCount == 1 })
                    clock.advance(by: .seconds(1))
                    #expect(await eventually { clock.sleeperCount == 1 && clock.requestedSleeps.count == 2 })
                    clock.advance(by: .seconds(2))
                    #expect(await eventually { receiver.accepted.count == 5 })
                    #expect(receiver.accepted.map(\.alertID) == (1...5).map { sampleAlert($0).id.rawValue })
                    #expect(receiver.deliveries.prefix(3).allSatisfy { $0.alertID == sampleAlert(1).id.rawValue })
                }
            }
        }
    }
}
