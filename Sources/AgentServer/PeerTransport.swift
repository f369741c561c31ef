import AsyncHTTPClient
import Consensus
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends election messages to other agents: `POST <agent>/v1/peer/message`, signed.
///
/// Sends are fire-and-forget: the election tolerates lost messages (heartbeats and lease
/// renewals repeat every probe interval, candidates retry), and a slow peer must never hold
/// up this agent's loop. Each request times out after `timeout`.
public final class PeerTransport: Sendable {
    private let me: AgentID
    private let peers: [AgentID: String]
    private let signature: PeerSignature
    private let client: HTTPClient
    private let timeout: Duration
    private let logger: Logger

    public init(me: AgentID, peers: [AgentID: String], secret: String, client: HTTPClient, timeout: Duration, logger: Logger) {
        self.me = me
        self.peers = peers
        self.signature = PeerSignature(secret: secret)
        self.client = client
        self.timeout = timeout
        self.logger = logger
    }

    /// Sends `message` to `peer` in the background.
    public func send(_ message: PeerMessage, to peer: AgentID) {
        guard let base = peers[peer] else {
            logger.warning("no agent URL for peer", metadata: ["peer": "\(peer)"])
            return
        }
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(message))
        } catch {
            logger.error("cannot encode peer message", metadata: ["error": "\(error)"])
            return
        }
        Task { await self.post(body, to: base, peer: peer) }
    }

    /// Sends `message` to every other voter in the background.
    public func broadcast(_ message: PeerMessage) {
        for peer in peers.keys { send(message, to: peer) }
    }

    private func post(_ body: [UInt8], to base: String, peer: AgentID) async {
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: base + "/v1/peer/message")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: PeerSignature.agentHeader, value: me.rawValue)
        request.headers.add(name: PeerSignature.timestampHeader, value: String(timestamp))
        request.headers.add(
            name: PeerSignature.signatureHeader, value: signature.sign(agent: me.rawValue, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
            if response.status != .accepted {
                logger.warning("peer refused a message", metadata: ["peer": "\(peer)", "status": "\(response.status.code)"])
            }
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            logger.debug("peer message not delivered", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }
}

extension Duration {
    /// Whole milliseconds, saturating.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (seconds < 0 ? .min : .max) : ms &+ attoseconds / 1_000_000_000_000_000
    }
}
