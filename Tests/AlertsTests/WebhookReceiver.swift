import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TestSupport

/// A real HTTP server on loopback that records every webhook request and answers with the
/// statuses a test scripts (200 once the script is used up).
final class WebhookReceiver: Sendable {
    /// One request as received, with the status it was answered with (nil: never answered).
    struct Delivery: Sendable {
        /// The request's path and query.
        var uri: String
        var headers: [String: String]
        var body: [UInt8]
        var status: Int?

        /// A header by name, whatever its case.
        func header(_ name: String) -> String? { headers[name.lowercased()] }

        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
        var alertID: String? { json?["id"] as? String }
    }

    /// What to do with the next request.
    enum Answer: Sendable {
        case status(Int)
        /// Hold the request unanswered until the receiver stops (the sender's timeout fires).
        case hang
    }

    private struct State {
        var deliveries: [Delivery] = []
        var script: [Answer] = []
        var held: [CheckedContinuation<Void, Never>] = []
        var stopped = false
    }

    private let state = Mutex(State())
    let url: String

    private init(url: String) { self.url = url }

    var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    /// Answers the next requests with `answers`, in order.
    func script(_ answers: [Answer]) { state.withLock { $0.script += answers } }

    /// Successfully answered deliveries.
    var accepted: [Delivery] { deliveries.filter { $0.status.map { (200..<300).contains($0) } ?? false } }

    fileprivate func handle(uri: String, headers: HTTPFields, body: [UInt8]) async -> Int {
        var fields: [String: String] = [:]
        for field in headers { fields[field.name.canonicalName.lowercased()] = field.value }
        let answer = state.withLock { state -> Answer in
            state.script.isEmpty ? .status(200) : state.script.removeFirst()
        }
        switch answer {
        case .status(let status):
            state.withLock { $0.deliveries.append(Delivery(uri: uri, headers: fields, body: body, status: status)) }
            return status
        case .hang:
            state.withLock { $0.deliveries.append(Delivery(uri: uri, headers: fields, body: body, status: nil)) }
            await withCheckedContinuation { continuation in
                let release = state.withLock { state -> Bool in
                    if state.stopped { return true }
                    state.held.append(continuation)
                    return false
                }
                if release { continuation.resume() }
            }
            return 503
        }
    }

    fileprivate func releaseHeld() {
        let held = state.withLock { state in
            state.stopped = true
            defer { state.held.removeAll() }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    /// Runs `body` with a receiver listening on a free loopback port at `/hook`.
    static func with<T>(_ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let port = try freeLoopbackPort()
        let receiver = WebhookReceiver(url: "http://127.0.0.1:\(port)/hook")
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let status = await receiver.handle(uri: request.uri.description, headers: request.headers, body: Array(buffer.readableBytesView))
            return Response(status: HTTPResponse.Status(code: status))
        }
        var logger = Logger(label: "test.webhook-receiver")
        logger.logLevel = .warning
        let running = Flag()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in running.set() }, logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !running.isSet && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        func stop() async {
            receiver.releaseHeld()
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }
        do {
            let result = try await body(receiver)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes (real time: waits for real HTTP).
func eventually(timeout: Duration = .seconds(20), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
