import AsyncHTTPClient
import Consensus
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends election messages to other agents: `POST <agent>/v1/peer/message`, signed for its
/// recipient (see ``PeerSignature``).
///
/// Sends are fire-and-forget for the election: each peer has one ``PeerLane`` that delivers
/// its messages in order, one at a time, so a newer heartbeat never overtakes an older one and
/// a slow peer holds up neither this agent's loop nor the other peers. Each request times out
/// after `timeout`; the message is signed when it leaves, so time spent queued does not count
/// against the receiver's replay window.
public final class PeerTransport: Sendable {
    private let me: AgentID
    private let peers: [AgentID: String]
    private let signature: PeerSignature
    private let client: HTTPClient
    private let timeout: Duration
    private let logger: Logger
    private let lanes: [AgentID: PeerLane]

    public init(me: AgentID, peers: [AgentID: String], secret: String, client: HTTPClient, timeout: Duration, logger: Logger) {
        self.me = me
        self.peers = peers
        let signature = PeerSignature(secret: secret)
        self.signature = signature
        self.client = client
        self.timeout = timeout
        self.logger = logger
        var lanes: [AgentID: PeerLane] = [:]
        for (peer, base) in peers {
            lanes[peer] = PeerLane { message in
                await Self.post(message, to: peer, at: base, from: me, signature: signature, client: client, timeout: timeout, logger: logger)
            }
        }
        self.lanes = lanes
    }

    /// Queues `message` for `peer` behind the messages already waiting for it.
    public func send(_ message: PeerMessage, to peer: AgentID) {
        guard let lane = lanes[peer] else {
            logger.warning("no agent URL for peer", metadata: ["peer": "\(peer)"])
            return
        }
        let dropped = lane.enqueue(message)
        if dropped > 0 {
            logger.debug("peer is slow; dropped superseded or excess queued messages", metadata: ["peer": "\(peer)", "dropped": "\(dropped)"])
        }
    }

    /// Queues `message` for every other voter.
    public func broadcast(_ message: PeerMessage) {
        for peer in peers.keys { send(message, to: peer) }
    }

    private static func post(
        _ message: PeerMessage, to peer: AgentID, at base: String, from me: AgentID, signature: PeerSignature, client: HTTPClient,
        timeout: Duration, logger: Logger
    ) async {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(message))
        } catch {
            logger.error("cannot encode peer message", metadata: ["error": "\(error)"])
            return
        }
        var request = HTTPClientRequest(url: base + "/v1/peer/message")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let timestamp = Int64(Date().timeIntervalSince1970)
        for (name, value) in signature.headers(sender: me.rawValue, recipient: peer.rawValue, timestamp: timestamp, body: body) {
            request.headers.add(name: name, value: value)
        }
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
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : ns &+ attoseconds / 1_000_000_000
    }

    /// Whole milliseconds, saturating.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (seconds < 0 ? .min : .max) : ms &+ attoseconds / 1_000_000_000_000_000
    }
}
