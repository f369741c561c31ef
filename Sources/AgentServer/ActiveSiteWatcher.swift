import AsyncHTTPClient
import Consensus
import Foundation
import Logging
import NIOCore
import Orchestrator
import ServiceLifecycle
import Sites
import Synchronization

/// Follows the active site's own agent from every other agent (a long-poll on its
/// `GET /v1/active`), so a sidecar anywhere says `serving` only once the active site itself
/// does — that is, once its promotion has positioned the groups.
///
/// An answer is trusted for `freshness` after it arrived plus the long-poll's own wait (the
/// active agent answers at once on any change); after that, or when the active agent cannot
/// be asked, there is no announcement and the sidecar here answers `fenced`.
final class ActiveSiteWatcher: Service, Sendable {
    private struct Heard: Sendable {
        var site: SiteID
        var announcement: SidecarView.Announcement
        var validUntil: ContinuousClock.Instant
    }

    private let ownSite: SiteID?
    private let agentURLs: [SiteID: String]
    private let committed: @Sendable () -> SiteConfig
    private let client: HTTPClient
    private let wait: Duration
    private let freshness: Duration
    private let onChange: @Sendable () -> Void
    private let logger: Logger
    private let heard = Mutex<Heard?>(nil)

    /// - Parameters:
    ///   - wait: the long-poll's `wait=`; `freshness` is added to it to tell a stale answer.
    ///   - onChange: called after each answer (the sidecar board recomputes).
    init(
        ownSite: SiteID?, agentURLs: [SiteID: String], committed: @escaping @Sendable () -> SiteConfig, client: HTTPClient,
        wait: Duration, freshness: Duration, logger: Logger, onChange: @escaping @Sendable () -> Void
    ) {
        self.ownSite = ownSite
        self.agentURLs = agentURLs
        self.committed = committed
        self.client = client
        self.wait = wait
        self.freshness = freshness
        self.logger = logger
        self.onChange = onChange
    }

    /// The active site's latest answer, if it is fresh and about the site this agent holds active.
    var announcement: SidecarView.Announcement? {
        let now = ContinuousClock.now
        let activeSite = committed().activeSite
        return heard.withLock { heard in
            guard let heard, heard.site == activeSite, heard.validUntil > now else { return nil }
            return heard.announcement
        }
    }

    func run() async {
        await cancelWhenGracefulShutdown { await self.follow() }
    }

    private func follow() async {
        while !Task.isCancelled {
            let site = committed().activeSite
            guard site != ownSite, let url = agentURLs[site] else {
                forget()
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let last = heard.withLock { $0?.site == site ? $0?.announcement : nil }
            var query = "wait=\(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)ms"
            if let last { query += "&after=\(last.epoch.rawValue)&state=\(last.state.rawValue)" }
            let started = ContinuousClock.now
            do {
                var request = HTTPClientRequest(url: "\(url)/v1/active?\(query)")
                request.method = .GET
                let response = try await client.execute(request, timeout: .init(wait + freshness))
                let body = try await response.body.collect(upTo: 1 << 16)
                guard response.status == .ok else { throw AgentError("status \(response.status.code)") }
                let answer = try JSONDecoder.iso8601.decode(ActiveAnswer.self, from: Data(buffer: body))
                let announcement = SidecarView.Announcement(
                    epoch: Epoch(answer.epoch), state: answer.state, servingHere: answer.servingHere && answer.activeSite == site.rawValue)
                heard.withLock { $0 = Heard(site: site, announcement: announcement, validUntil: ContinuousClock.now + wait + freshness) }
                onChange()
            } catch {
                if Task.isCancelled { return }
                logger.debug("cannot follow the active site's agent", metadata: ["site": "\(site)", "error": "\(error)"])
                forget()
                // Do not spin against an agent that refuses at once.
                try? await Task.sleep(until: started + .milliseconds(200), clock: .continuous)
            }
        }
    }

    private func forget() {
        let had = heard.withLock { heard -> Bool in
            defer { heard = nil }
            return heard != nil
        }
        if had { onChange() }
    }
}

extension JSONDecoder {
    /// A decoder for the agents' JSON (ISO 8601 dates).
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
