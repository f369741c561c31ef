import Alerts
import AsyncHTTPClient
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing
import TestSupport

@Suite("The durable alert outbox", .timeLimit(.minutes(1)))
struct AlertOutboxTests {
    @Test("pending alerts survive a stopped delivery loop and are delivered once after reopening")
    func survivesRestart() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: nil)
                receiver.script([.status(500)])
                // First life: the receiver fails, the loop backs off and is stopped mid-retry.
                let clock = ManualClock()
                try await withDelivery(endpoint: endpoint, directory: directory, clock: clock) { delivery in
                    for number in 1...3 { try await delivery.enqueue(sampleAlert(number)) }
                    #expect(await eventually { clock.sleeperCount == 1 })
                    #expect(delivery.outbox.depth == 3)
                }
                #expect(receiver.accepted.isEmpty)
                // Second life: a new outbox over the same directory finds the three, in order.
                try await withDelivery(endpoint: endpoint, directory: directory, clock: ManualClock()) { delivery in
                    #expect(delivery.outbox.depth == 3)
                    delivery.notify()
                    #expect(await eventually { receiver.accepted.count == 3 })
                    #expect(await eventually { delivery.outbox.depth == 0 })
                }
                #expect(receiver.accepted.map(\.alertID) == (1...3).map { sampleAlert($0).id.rawValue })
                // Third life: nothing is delivered twice.
                try await withDelivery(endpoint: endpoint, directory: directory, clock: ManualClock()) { delivery in
                    #expect(delivery.outbox.depth == 0)
                }
                #expect(receiver.accepted.count == 3)
            }
        }
    }

    @Test("a corrupt entry is set aside with a warning and the rest are delivered")
    func corruptEntrySkipped() async throws {
        let logs = InMemoryLogHandler()
        let logger = Logger(label: "test.alerts", factory: { _ in logs })
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: nil)
                let path = directory.appendingPathComponent(endpoint.outboxName).path
                let outbox = try AlertOutbox(directory: path, logger: logger)
                for number in 1...3 { try outbox.append(sampleAlert(number)) }
                let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                #expect(files.count == 3)
                // A torn write in the middle entry and a leftover temporary file.
                try Data("{\"id\": \"dc-b.fail".utf8).write(to: URL(fileURLWithPath: path + "/" + files[1]))
                try Data("garbage".utf8).write(to: URL(fileURLWithPath: path + "/.tmp-99"))
                try await withDelivery(endpoint: endpoint, directory: directory, clock: ManualClock(), logger: logger) { delivery in
                    #expect(delivery.outbox.depth == 3)
                    delivery.notify()
                    #expect(await eventually { receiver.accepted.count == 2 })
                    #expect(await eventually { delivery.outbox.depth == 0 })
                }
                #expect(receiver.accepted.map(\.alertID) == [sampleAlert(1).id.rawValue, sampleAlert(3).id.rawValue])
                #expect(logs.entries.contains { $0.level == .warning && $0.message.description.contains("unreadable") })
                let left = try FileManager.default.contentsOfDirectory(atPath: path)
                #expect(left == [files[1] + ".corrupt"])
            }
        }
    }

    @Test("the bound drops the oldest pending alerts with a warning")
    func boundEnforced() throws {
        let logs = InMemoryLogHandler()
        let logger = Logger(label: "test.alerts", factory: { _ in logs })
        try withTemporaryDirectoryBlocking { directory in
            let outbox = try AlertOutbox(directory: directory.path, maximumPending: 3, logger: logger)
            for number in 1...5 { try outbox.append(sampleAlert(number)) }
            #expect(outbox.depth == 3)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 3)
            #expect(try outbox.oldest()?.alert == sampleAlert(3))
            #expect(logs.entries.filter { $0.level == .warning && $0.message.description.contains("full") }.count == 2)
            // Reopened, the bound still holds and the order is the same.
            let reopened = try AlertOutbox(directory: directory.path, maximumPending: 3, logger: logger)
            #expect(reopened.depth == 3)
            let first = try #require(try reopened.oldest())
            #expect(first.alert == sampleAlert(3))
            reopened.remove(first)
            #expect(try reopened.oldest()?.alert == sampleAlert(4))
            try reopened.append(sampleAlert(6))
            #expect(reopened.depth == 3)
        }
    }
}

/// A temporary directory for synchronous tests, removed afterwards.
func withTemporaryDirectoryBlocking(_ body: (URL) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alerts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory)
}

/// A file reader that fails with `errno` while `failing` is set, like `open` when the process
/// is out of descriptors.
final class FlakyReader: Sendable {
    private let failure = Mutex<Int32?>(nil)
    private let attempts = Mutex(0)

    func fail(with errno: Int32?) { failure.withLock { $0 = errno } }
    var reads: Int { attempts.withLock { $0 } }

    func read(_ path: String) throws(OutboxReadFailure) -> [UInt8] {
        attempts.withLock { $0 += 1 }
        if let errno = failure.withLock({ $0 }) { throw OutboxReadFailure(errno: errno) }
        return try AlertOutbox.readFile(path)
    }
}

@Suite("The alert outbox under descriptor exhaustion", .timeLimit(.minutes(1)))
struct AlertOutboxExhaustionTests {
    @Test("EMFILE, ENFILE and EIO while reading an entry leave it pending, never .corrupt; it is read once the descriptors are back", arguments: [EMFILE, ENFILE, EIO])
    func transientReadErrors(errno: Int32) async throws {
        try await withTemporaryDirectory(prefix: "alerts") { directory in
            let reader = FlakyReader()
            let outbox = try AlertOutbox(directory: directory.path, logger: Logger(label: "test.alerts"), read: { path throws(OutboxReadFailure) in try reader.read(path) })
            for number in 1...2 { try outbox.append(sampleAlert(number)) }
            reader.fail(with: errno)
            #expect(throws: AlertError.self) { try outbox.oldest() }
            #expect(throws: AlertError.self) { try outbox.oldest() }
            #expect(outbox.depth == 2)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            #expect(!names.contains { $0.hasSuffix(".corrupt") }, "\(names)")
            #expect(names.filter { $0.hasSuffix(".json") }.count == 2)
            reader.fail(with: nil)
            #expect(try outbox.oldest()?.alert == sampleAlert(1))
        }
    }

    @Test("the delivery loop waits out a read failure and then delivers every alert in order")
    func deliveryRetriesAfterExhaustion() async throws {
        try await WebhookReceiver.with { receiver in
            try await withTemporaryDirectory(prefix: "alerts") { directory in
                let endpoint = try WebhookEndpoint(url: receiver.url, format: .generic, secret: nil)
                let reader = FlakyReader()
                let clock = ManualClock()
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                let outbox = try AlertOutbox(
                    directory: directory.appendingPathComponent(endpoint.outboxName).path, logger: Logger(label: "test.alerts"),
                    read: { path throws(OutboxReadFailure) in try reader.read(path) })
                let delivery = WebhookDelivery(
                    endpoint: endpoint, outbox: outbox, transport: HTTPWebhookTransport(client: client), clock: clock,
                    backoff: RetryBackoff(initial: .seconds(1), maximum: .seconds(8)), random: { 0.5 }, logger: Logger(label: "test.alerts"))
                reader.fail(with: EMFILE)
                let task = Task { await delivery.run() }
                for number in 1...3 { try await delivery.enqueue(sampleAlert(number)) }
                // The loop backs off on the clock instead of dropping the entries.
                #expect(await eventually { clock.sleeperCount == 1 })
                #expect(receiver.accepted.isEmpty)
                #expect(outbox.depth == 3)
                reader.fail(with: nil)
                clock.advance(by: .seconds(8))
                #expect(await eventually { receiver.accepted.count == 3 })
                #expect(receiver.accepted.map(\.alertID) == (1...3).map { sampleAlert($0).id.rawValue })
                task.cancel()
                await task.value
                try await client.shutdown()
            }
        }
    }
}
