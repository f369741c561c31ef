import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Follows an agent's `GET /v1/active` by long-polling, the way an application should: every
/// change of epoch, state or bootstrap servers arrives as one element of ``changes()``.
///
/// ```swift
/// let follower = ActiveSiteFollower(agent: "http://127.0.0.1:7070", client: .shared)
/// for try await site in follower.changes() {
///     guard site.isUsable else { pauseProducing(); continue }      // promoting, switching, fenced
///     if let old = current, old.needsNewClients(site) { recreateClients(site.bootstrapServers) }
///     current = site
/// }
/// ```
/// - Important: close an old consumer in the background when the site changes: a consumer's
///   close waits for a group coordinator that may be in the failed datacenter.
public struct ActiveSiteFollower: Sendable {
    public let agent: String
    private let client: HTTPClient
    private let wait: Duration
    private let maxBackoff: Duration
    private let logger: Logger

    /// - Parameters:
    ///   - agent: base URL of the agent beside the application (`http://127.0.0.1:7070`).
    ///   - wait: how long one long-poll may wait (the agent caps it at 60 s).
    ///   - maxBackoff: the longest pause between attempts while the agent cannot be reached.
    public init(
        agent: String, client: HTTPClient, wait: Duration = .seconds(30), maxBackoff: Duration = .seconds(5),
        logger: Logger = Logger(label: "switchback.sidecar-client")
    ) {
        self.agent = agent.hasSuffix("/") ? String(agent.dropLast()) : agent
        self.client = client
        self.wait = wait
        self.maxBackoff = maxBackoff
        self.logger = logger
    }

    /// One immediate answer (no long-poll).
    public func current(timeout: Duration = .seconds(5)) async throws(SidecarError) -> ActiveSite {
        try await fetch("\(agent)/v1/active", timeout: timeout)
    }

    /// Every change of what the agent answers, starting with the current answer. While the agent
    /// cannot be reached the sequence waits and retries with back-off (an application should
    /// treat a long silence as `fenced`); it ends when the consuming task is cancelled.
    public func changes() -> AsyncStream<ActiveSite> {
        AsyncStream { continuation in
            let task = Task {
                var last: ActiveSite?
                var backoff = Duration.milliseconds(100)
                while !Task.isCancelled {
                    var url = "\(agent)/v1/active?wait=\(wait.components.seconds)s"
                    if let last { url += "&after=\(last.epoch)&state=\(last.state.rawValue)" }
                    do {
                        let answer = try await fetch(url, timeout: wait + .seconds(5))
                        backoff = .milliseconds(100)
                        if answer.epoch != last?.epoch || answer.state != last?.state || answer.bootstrapServers != last?.bootstrapServers {
                            continuation.yield(answer)
                        }
                        last = answer
                    } catch {
                        logger.warning("sidecar unreachable; retrying", metadata: ["agent": "\(agent)", "error": "\(error)"])
                        try? await Task.sleep(for: backoff)
                        backoff = min(backoff * 2, maxBackoff)
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func fetch(_ url: String, timeout: Duration) async throws(SidecarError) -> ActiveSite {
        let body: ByteBuffer
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(timeout.components.seconds + 1))
            guard response.status == .ok else { throw SidecarError("GET \(url): HTTP \(response.status.code)") }
            body = try await response.body.collect(upTo: 1 << 16)
        } catch let error as SidecarError {
            throw error
        } catch {
            throw SidecarError("GET \(url): \(error)")
        }
        return try ActiveSite(json: Array(body.readableBytesView))
    }
}
