import AgentServer
import Consensus
import Foundation
import Testing

/// A vote the witness sent to `candidate`, as it travels on the wire.
func capturedVote(for candidate: String) throws -> (headers: [(String, String)], body: [UInt8]) {
    let vote = PeerMessage(
        from: "witness",
        body: .voteResponse(VoteResponse(
            epoch: Epoch(1), candidate: AgentID(candidate), granted: true, leaseRemaining: .zero, voterEpoch: .initial,
            voterCommitted: .initial(activeSite: "dc-a", standbySite: "dc-b"), reason: "granted")))
    return try signedPeerRequest(vote, as: "witness", to: candidate)
}

@Suite("Peer envelope: every signed message names its recipient", .timeLimit(.minutes(2)))
struct PeerEnvelopeTests {
    @Test("a vote response captured on its way to candidate dc-a is refused by candidate dc-b, with or without a rewritten recipient")
    func voteReplayedToAnotherCandidate() async throws {
        let captured = try capturedVote(for: "dc-a")
        try await withAgent(name: "dc-b") { _, base, client, _ in
            let replayed = try await http(client, .POST, base + "/v1/peer/message", headers: captured.headers, body: captured.body)
            #expect(replayed.status == 401, "dc-b accepted a vote the witness addressed to dc-a")
            #expect(String(decoding: replayed.body, as: UTF8.self).contains("addressed to"))
            // Rewriting the recipient header to dc-b breaks the signature.
            let readdressed = captured.headers.map { $0.0 == "X-Switchback-Recipient" ? ($0.0, "dc-b") : $0 }
            #expect(try await http(client, .POST, base + "/v1/peer/message", headers: readdressed, body: captured.body).status == 401)
        }
        try await withAgent(name: "dc-a") { _, base, client, _ in
            let delivered = try await http(client, .POST, base + "/v1/peer/message", headers: captured.headers, body: captured.body)
            #expect(delivered.status == 202, "the addressee refused its own vote: \(String(decoding: delivered.body, as: UTF8.self))")
        }
    }

    @Test("the same signature in upper-case hex is a replay, not a new message")
    func upperCaseSignatureIsReplay() async throws {
        try await withAgent { _, base, client, _ in
            let url = base + "/v1/peer/message"
            let original = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b", to: "dc-a")
            #expect(try await http(client, .POST, url, headers: original.headers, body: original.body).status == 202)
            let shouted = original.headers.map { $0.0 == PeerSignature.signatureHeader ? ($0.0, $0.1.uppercased()) : $0 }
            let replay = try await http(client, .POST, url, headers: shouted, body: original.body)
            #expect(replay.status == 401, "an upper-cased signature passed the replay guard")
            #expect(String(decoding: replay.body, as: UTF8.self).contains("replayed"))
        }
    }
}
