import Consensus

/// Where the election's outgoing messages go: HTTP to the other agents in production.
public protocol PeerSending: Sendable {
    func send(_ message: PeerMessage, to peer: AgentID)
    func broadcast(_ message: PeerMessage)
}

extension PeerTransport: PeerSending {}
