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

    let host: ElectionHost
    let role: AgentRole
    let mySite: String?
    let bootstrap: [String: [String]]
    let signature: PeerSignature
    let replay: ReplayGuard
    let operatorToken: Secret
    let metrics: AgentMetrics
    let probes: ProbeBoard
    let alerts: AlertDispatcher?
    let logger: Logger
    /// The runbook engine, when the agent runs one (its routes are mounted then).
    public var runbooks: RunbookRunner?

    public init(
        host: ElectionHost, configuration: AgentConfiguration, metrics: AgentMetrics, probes: ProbeBoard, logger: Logger,
        replay: ReplayGuard = ReplayGuard(), alerts: AlertDispatcher? = nil
    ) {
        self.alerts = alerts
        self.host = host
        self.role = configuration.role
        self.mySite = configuration.ownSite?.name.rawValue
        var bootstrap: [String: [String]] = [:]
        for site in configuration.sites { bootstrap[site.name.rawValue] = site.bootstrapServers }
        self.bootstrap = bootstrap
        self.signature = PeerSignature(secret: configuration.auth.peerSecret.revealed())
        self.replay = replay
        self.operatorToken = configuration.auth.operatorToken
        self.metrics = metrics
        self.probes = probes
        self.logger = logger
    }

    /// The routes, ready for an `Application`.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/v1/active") { request, _ in try await active(request) }
        router.get("/v1/health/active") { _, _ in
            host.isServingActive() ? json(["status": "active"]) : json(["status": "not active"], status: .serviceUnavailable)
        }
        router.get("/v1/health/standby") { _, _ in
            let standby = mySite != nil && host.committed.activeSite.rawValue != mySite
            return standby ? json(["status": "standby"]) : json(["status": "not standby"], status: .serviceUnavailable)
        }
        router.get("/healthz") { _, _ in json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            let probed = probes.all.count
            return probed >= bootstrap.count
                ? json(["status": "ready"])
                : json(["status": "waiting for the first probe of every site (\(probed)/\(bootstrap.count))"], status: .serviceUnavailable)
        }
        router.post("/v1/peer/message") { request, _ in try await peerMessage(request) }
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

    // MARK: - Sidecar

    func activeAnswer(_ published: ActiveConfigBoard.Published) -> ActiveAnswer {
        let config = published.config
        return ActiveAnswer(
            epoch: config.epoch.rawValue, activeSite: config.activeSite.rawValue,
            bootstrapServers: bootstrap[config.activeSite.rawValue] ?? [], since: published.since,
            servingHere: host.isServingActive(), mirrorFrom: config.mirrorDirection.from.rawValue,
            mirrorTo: config.mirrorDirection.to.rawValue)
    }

    func active(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let waitText = query.get("wait") else { return json(activeAnswer(host.board.current)) }
        guard let wait = DurationText.parse(waitText) else {
            return APIError(.badRequest, "wait=\(waitText) is not a duration; write it like wait=30s or wait=500ms").response
        }
        let after: UInt64
        if let afterText = query.get("after") {
            guard let parsed = UInt64(afterText) else {
                return APIError(.badRequest, "after=\(afterText) is not an epoch number; pass the epoch of the last answer").response
            }
            after = parsed
        } else {
            after = host.board.current.config.epoch.rawValue
        }
        let published = await host.board.wait(after: after, timeout: min(wait, Self.maxWait))
        return json(activeAnswer(published))
    }

    // MARK: - Peer

    func peerMessage(_ request: Request) async throws -> Response {
        let agentName = header(PeerSignature.agentHeader, in: request)
        let timestampText = header(PeerSignature.timestampHeader, in: request)
        let signatureText = header(PeerSignature.signatureHeader, in: request)
        guard let agentName, let timestampText, let signatureText, let timestamp = Int64(timestampText) else {
            return refusePeer("missing or malformed authentication headers", agent: agentName)
        }
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: Self.maxBody)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            return APIError(.contentTooLarge, "the message is larger than \(Self.maxBody) bytes").response
        }
        guard signature.verify(signature: signatureText, agent: agentName, timestamp: timestamp, body: body) else {
            return refusePeer("bad signature (wrong peer secret?)", agent: agentName)
        }
        switch replay.admit(signature: signatureText, timestamp: timestamp, now: Int64(Date().timeIntervalSince1970)) {
        case .fresh: break
        case .stale(let skew):
            return refusePeer("timestamp \(skew) s away from this agent's clock (window ±\(replay.window) s); check NTP", agent: agentName)
        case .replayed:
            return refusePeer("replayed request (signature already seen)", agent: agentName)
        }
        let message: PeerMessage
        do {
            message = try JSONDecoder().decode(PeerMessage.self, from: Data(body))
        } catch {
            return APIError(.badRequest, "not a peer message: \(error)").response
        }
        guard message.from.rawValue == agentName else {
            return refusePeer("message claims to be from '\(message.from)' but was signed as '\(agentName)'", agent: agentName)
        }
        host.submit(.received(message))
        return json(["status": "accepted"], status: .accepted)
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
            agent: host.agent.rawValue, role: role.rawValue, active: activeAnswer(host.board.current),
            election: host.status(), probes: probes.all,
            alerts: alerts?.depths.map { AlertOutboxStatus(webhook: $0.webhook, pending: $0.pending) })
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
