import Alerts
import Consensus
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Orchestrator
import Sites
import SwitchbackConfiguration

/// The agent's HTTP API (DESIGN.md §8): sidecar, health, peer, operator and metrics routes.
///
/// Every input is hostile: malformed bodies, parameters and headers get a 400 (or 401 for
/// authentication) with a message that says what was wrong, never a crash.
public struct AgentAPI: Sendable {
    /// The longest `?wait=` a sidecar long-poll may ask for; longer requests are capped.
    public static let maxWait: Duration = .seconds(60)
    /// The largest request body read.
    static let maxBody = 1 << 20
    /// The largest peer message read: heartbeats and votes are a few KiB.
    static let maxPeerBody = 64 << 10

    let host: ElectionHost
    let role: AgentRole
    let mySite: String?
    let bootstrap: [String: [String]]
    let me: String
    let signature: PeerSignature
    let replay: ReplayGuard
    let identity: PeerCertificateIdentity
    let longPolls: LongPollLimit
    let operatorToken: Secret
    let metrics: AgentMetrics
    let probes: ProbeBoard
    let alerts: AlertDispatcher?
    let statusPage: StatusPage
    let sidecar: SidecarBoard
    let dataPlane: DataPlane?
    let logger: Logger
    /// The runbook engine, when the agent runs one (its routes are mounted then).
    public var runbooks: RunbookRunner?

    /// - Parameters:
    ///   - sidecar: the sidecar's answer (see ``SidecarBoard``), shared with the agent's refresher.
    ///   - dataPlane: this site's data plane (`nil` for a witness): flows and promotions in the status.
    public init(
        host: ElectionHost, configuration: AgentConfiguration, metrics: AgentMetrics, probes: ProbeBoard, sidecar: SidecarBoard,
        dataPlane: DataPlane?, logger: Logger, replay: ReplayGuard = ReplayGuard(), alerts: AlertDispatcher? = nil
    ) {
        self.alerts = alerts
        self.sidecar = sidecar
        self.dataPlane = dataPlane
        self.host = host
        self.role = configuration.role
        self.mySite = configuration.ownSite?.name.rawValue
        var bootstrap: [String: [String]] = [:]
        for site in configuration.sites { bootstrap[site.name.rawValue] = site.bootstrapServers }
        self.bootstrap = bootstrap
        self.me = configuration.name.rawValue
        self.signature = PeerSignature(secret: configuration.auth.peerSecret.revealed())
        self.replay = replay
        self.identity = PeerCertificateIdentity(agentURLs: configuration.peerURLs.reduce(into: [:]) { $0[$1.key.rawValue] = $1.value })
        self.longPolls = LongPollLimit(maximum: configuration.http.maxLongPolls, gauge: metrics.longPolls)
        self.operatorToken = configuration.auth.operatorToken
        self.metrics = metrics
        self.probes = probes
        self.statusPage = StatusPage(configuration: configuration)
        self.logger = logger
    }

    /// The routes, ready for an `Application`.
    public func router() -> Router<AgentRequestContext> {
        let router = Router(context: AgentRequestContext.self)
        router.get("/v1/active") { request, _ in try await active(request) }
        router.get("/v1/health/active") { _, _ in
            // Serving means the lease is held here *and* the promotion has positioned the groups.
            let answer = sidecar.current()
            return answer.servingHere && answer.state == .serving
                ? json(["status": "active"])
                : json(["status": "not active (\(answer.state))"], status: .serviceUnavailable)
        }
        router.get("/v1/health/standby") { _, _ in
            // The board holds the configuration adopted after its save, not the election's
            // in-memory one, which runs ahead of the disk while the save is in progress (or failing).
            let standby = mySite != nil && host.board.current.config.activeSite.rawValue != mySite
            return standby ? json(["status": "standby"]) : json(["status": "not standby"], status: .serviceUnavailable)
        }
        router.get("/") { request, _ in statusPage.response(request, report: report()) }
        router.get("/healthz") { _, _ in json(["status": "ok"]) }
        router.get("/readyz") { _, _ in readiness() }
        router.post("/v1/peer/message") { request, context in try await peerMessage(request, context: context) }
        router.post(RouterPath(AgentDataPlaneControl.path)) { request, context in await dataPlaneCommand(request, context: context) }
        router.get("/v1/status") { request, _ in
            if let refusal = authorizeOperator(request) { return refusal }
            return json(report())
        }
        router.post("/v1/maintenance") { request, _ in
            if let refusal = authorizeOperator(request) { return refusal }
            let body: MaintenanceRequest
            do throws(APIError) { body = try await decode(MaintenanceRequest.self, request) } catch { return error.response }
            return await operatorEvent(.setMaintenance(body.enabled))
        }
        router.post("/v1/ack") { request, _ in
            if let refusal = authorizeOperator(request) { return refusal }
            return await operatorEvent(.acknowledge)
        }
        router.post("/v1/failover") { request, _ in
            if let refusal = authorizeOperator(request) { return refusal }
            let body: MoveRequest
            do throws(APIError) { body = try await decode(MoveRequest.self, request) } catch { return error.response }
            guard bootstrap[body.to] != nil, let site = SiteID(rawValue: body.to) else { return unknownSite(body.to) }
            let override = SafetyOverride(ignoreHealth: body.ignoreHealth ?? false, withoutMajority: body.withoutMajority ?? false)
            return await operatorEvent(.failover(to: site, override: override))
        }
        router.post("/v1/switchover") { request, _ in
            if let refusal = authorizeOperator(request) { return refusal }
            let body: MoveRequest
            do throws(APIError) { body = try await decode(MoveRequest.self, request) } catch { return error.response }
            guard bootstrap[body.to] != nil, let site = SiteID(rawValue: body.to) else { return unknownSite(body.to) }
            return await operatorEvent(.switchover(to: site))
        }
        if let runbooks { RunbookRoutes(runner: runbooks, authorize: authorizeOperator).add(to: router) }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return router
    }

    // MARK: - Readiness

    /// `/readyz`: 200 when this agent's latest probes say it can do its job — for a member, the
    /// latest probe of its own site's cluster succeeded; for a witness, the latest probes of a
    /// majority of the sites did. Otherwise 503 saying which probe is missing or failed.
    func readiness() -> Response {
        let views = probes.all
        if let mySite {
            guard let own = views[mySite] else {
                return json(["status": "waiting for the first probe of this site's cluster (\(mySite))"], status: .serviceUnavailable)
            }
            guard own.healthy else {
                return json(
                    ["status": "the latest probe of this site's cluster (\(mySite)) failed: \(own.failure ?? "unknown")"],
                    status: .serviceUnavailable)
            }
            return json(["status": "ready"])
        }
        let healthy = bootstrap.keys.filter { views[$0]?.healthy == true }.sorted()
        let needed = bootstrap.count / 2 + 1
        guard healthy.count >= needed else {
            return json(
                ["status": "\(healthy.count) of \(bootstrap.count) sites' clusters probed healthy (\(healthy.joined(separator: ", "))); a witness needs \(needed)"],
                status: .serviceUnavailable)
        }
        return json(["status": "ready"])
    }

    // MARK: - Sidecar

    /// The sidecar's answer from the election and data plane as they are now (the
    /// ``SidecarBoard`` calls this; `announcement` is the active site's agent's own answer).
    static func answer(
        host: ElectionHost, bootstrap: [String: [String]], ownSite: SiteID?, majority: Int, phase: DataPlanePhase?,
        announcement: SidecarView.Announcement?
    ) -> ActiveAnswer {
        let published = host.board.current
        let config = published.config
        let servingHere = host.isServingActive()
        let view = SidecarView(
            committed: config, ownSite: ownSite, servingHere: servingHere,
            hasMajority: host.status().reachablePeers.count + 1 >= majority,
            phase: phase ?? .following(config.epoch), announcement: announcement)
        return ActiveAnswer(
            epoch: config.epoch.rawValue, activeSite: config.activeSite.rawValue,
            bootstrapServers: bootstrap[config.activeSite.rawValue] ?? [], since: published.since,
            servingHere: servingHere, mirrorFrom: config.mirrorDirection.from.rawValue,
            mirrorTo: config.mirrorDirection.to.rawValue, state: view.state)
    }

    /// `GET /v1/active[?wait=30s&after=EPOCH[&state=STATE]]`: at once without `wait`, or when
    /// the epoch is above `after` or the state differs from `state`; otherwise when what it
    /// would answer (epoch, state, servingHere) changes, or when the wait ends.
    func active(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let now = sidecar.current()
        guard let waitText = query.get("wait") else { return json(now) }
        guard let wait = DurationText.parse(waitText) else {
            return APIError(.badRequest, "wait=\(waitText) is not a duration; write it like wait=30s or wait=500ms").response
        }
        var after = now.epoch
        if let afterText = query.get("after") {
            guard let parsed = UInt64(afterText) else {
                return APIError(.badRequest, "after=\(afterText) is not an epoch number; pass the epoch of the last answer").response
            }
            after = parsed
        }
        guard let admission = longPolls.admit() else {
            return APIError(
                .serviceUnavailable,
                "\(longPolls.maximum) long-polls are already waiting here (http.max_long_polls); retry in a second, or ask without wait=").response
        }
        defer { admission.release() }
        if let stateText = query.get("state") {
            guard let state = SidecarState(rawValue: stateText) else {
                return APIError(.badRequest, "state=\(stateText) is not a sidecar state; pass the state of the last answer "
                    + "(one of \(SidecarState.allCases.map(\.rawValue).joined(separator: ", ")))").response
            }
            if state != now.state { return json(now) }
        }
        if now.epoch > after { return json(now) }
        return json(await sidecar.wait(whileKey: now.key, timeout: min(wait, Self.maxWait)))
    }

    // MARK: - Peer

    /// Checks everything the headers and the connection can tell — the sender is a configured
    /// agent, the message is addressed to this agent, its time is inside the window, the TLS
    /// client certificate (when there is one) belongs to the sender — before reading at most
    /// `maxPeerBody` bytes of body, then the signature, the replay guard and the body itself.
    func peerMessage(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let sender: String
        let body: [UInt8]
        switch await verifyPeer(request, context: context) {
        case .refused(let response): return response
        case .verified(let who, let bytes): (sender, body) = (who, bytes)
        }
        let message: PeerMessage
        do {
            message = try JSONDecoder().decode(PeerMessage.self, from: Data(body))
        } catch {
            return APIError(.badRequest, "not a peer message: \(error)").response
        }
        guard message.from.rawValue == sender else {
            return refusePeer("message claims to be from '\(message.from)' but was signed as '\(sender)'", agent: sender)
        }
        host.submit(.received(message))
        return json(["status": "accepted"], status: .accepted)
    }

    /// A peer request that passed every check, or the refusal to answer with.
    enum PeerRequest {
        case refused(Response)
        case verified(sender: String, body: [UInt8])
    }

    /// The checks of every peer route (see ``peerMessage(_:context:)``), up to a verified body.
    func verifyPeer(_ request: Request, context: AgentRequestContext) async -> PeerRequest {
        let sender = header(PeerSignature.agentHeader, in: request)
        let recipient = header(PeerSignature.recipientHeader, in: request)
        let timestampText = header(PeerSignature.timestampHeader, in: request)
        let signatureText = header(PeerSignature.signatureHeader, in: request)
        guard let sender, let recipient, let timestampText, let signatureText, let timestamp = Int64(timestampText) else {
            return .refused(refusePeer("missing or malformed authentication headers", agent: sender))
        }
        guard recipient == me else {
            return .refused(refusePeer("the message is addressed to '\(recipient)', not to this agent ('\(me)')", agent: sender))
        }
        guard sender != me, let senderHost = identity.host(of: sender) else {
            return .refused(refusePeer("'\(sender)' is not one of the other agents in this agent's configuration", agent: sender))
        }
        let now = Int64(Date().timeIntervalSince1970)
        let (skew, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, skew.magnitude <= UInt64(replay.window) else {
            return .refused(refusePeer(
                "timestamp \(overflow ? Int64.max : skew) s away from this agent's clock (window ±\(replay.window) s); check NTP", agent: sender))
        }
        if let certificate = await context.peerCertificate(), !identity.certificate(certificate, speaksFor: sender) {
            return .refused(refusePeer(
                "the client certificate does not name \(senderHost), the host of \(sender)'s agent URL, so it cannot speak for \(sender)",
                agent: sender))
        }
        if let length = header("Content-Length", in: request).flatMap(Int.init), length > Self.maxPeerBody {
            return .refused(APIError(.contentTooLarge, "a peer message is at most \(Self.maxPeerBody) bytes; this one says \(length)").response)
        }
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: Self.maxPeerBody)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            return .refused(APIError(.contentTooLarge, "a peer message is at most \(Self.maxPeerBody) bytes").response)
        }
        guard signature.verify(signature: signatureText, sender: sender, recipient: recipient, timestamp: timestamp, body: body) else {
            return .refused(refusePeer("bad signature (wrong peer secret?)", agent: sender))
        }
        switch replay.admit(signature: signatureText, sender: sender, recipient: recipient, timestamp: timestamp, now: now) {
        case .fresh: break
        case .stale(let skew):
            return .refused(refusePeer("timestamp \(skew) s away from this agent's clock (window ±\(replay.window) s); check NTP", agent: sender))
        case .replayed:
            return .refused(refusePeer("replayed request (signature already seen)", agent: sender))
        }
        return .verified(sender: sender, body: body)
    }

    /// The value of the header named `name` (case-insensitive), if present once or more.
    func header(_ name: String, in request: Request) -> String? {
        let wanted = name.lowercased()
        return request.headers.first { $0.name.canonicalName == wanted }?.value
    }

    func refusePeer(_ reason: String, agent: String?) -> Response {
        metrics.peerRefused.increment()
        logger.warning("peer request refused", metadata: ["reason": "\(reason)", "claimed-agent": "\(agent ?? "-")"])
        return APIError(.unauthorized, "peer request refused: \(reason)").response
    }

    // MARK: - Operator

    func authorizeOperator(_ request: Request) -> Response? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            logger.warning("operator request without a bearer token refused", metadata: ["path": "\(request.uri.path)"])
            return APIError(.unauthorized, "operator API: send Authorization: Bearer <operator token>").response
        }
        let given = Array(header.dropFirst("Bearer ".count).utf8)
        let expected = Array(operatorToken.revealed().utf8)
        // Constant time, so the token cannot be guessed byte by byte from response times.
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<min(given.count, expected.count) { difference |= given[index] ^ expected[index] }
        guard difference == 0 else {
            logger.warning("operator request with a wrong token refused", metadata: ["path": "\(request.uri.path)"])
            return APIError(.unauthorized, "operator API: wrong token").response
        }
        return nil
    }

    func report() -> AgentStatusReport {
        AgentStatusReport(
            agent: host.agent.rawValue, role: role.rawValue, active: sidecar.current(),
            election: host.status(), probes: probes.all,
            alerts: alerts?.depths.map { AlertOutboxStatus(webhook: $0.webhook, pending: $0.pending) },
            dataPlane: dataPlane.map(DataPlaneStatusReport.init))
    }

    func operatorEvent(_ event: ElectionEvent) async -> Response {
        let decisions = await host.perform(event)
        return json(OperatorResponse(decisions: decisions, status: report()))
    }

    func unknownSite(_ site: String) -> Response {
        APIError(.badRequest, "unknown site '\(site)'; sites are \(bootstrap.keys.sorted().joined(separator: ", "))").response
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws(APIError) -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBody)
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(Self.maxBody) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, "malformed JSON body: \(error)")
        }
    }
}

/// An HTTP error response with a message for the caller.
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    var response: Response { json(ErrorBody(error: message), status: status) }
}

/// A JSON response (ISO 8601 dates, sorted keys).
func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data(#"{"error":"response could not be encoded"}"#.utf8)
    return Response(
        status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
