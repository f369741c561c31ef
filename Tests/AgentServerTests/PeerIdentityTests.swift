import AgentServer
import Foundation
import Testing

/// dc-b and the witness on hosts of their own (127.0.0.2, 127.0.0.3 — loopback on Linux), so
/// their certificates can name them apart.
func ownHosts(_ yaml: String) -> String {
    yaml.replacingOccurrences(of: "\"https://127.0.0.1:2\"", with: "\"https://127.0.0.2:2\"")
        .replacingOccurrences(of: "\"https://127.0.0.1:3\"", with: "\"https://127.0.0.3:3\"")
}

@Suite("Peer identity: a TLS client certificate speaks only for the agent whose URL host it names", .timeLimit(.minutes(2)))
struct PeerIdentityTests {
    @Test("with client_auth required, a peer presenting dc-b's certificate cannot speak as the witness; as dc-b it can")
    func certificateBoundToAgent() async throws {
        try await withTLSAgent(clientAuth: .required, editYAML: ownHosts) { _, base, pki, _, _ in
            try await pki.pki.issueLeaf("dc-b", alternativeNames: "IP:127.0.0.2, DNS:agent-b.test")
            try await pki.pki.issueLeaf("witness", alternativeNames: "IP:127.0.0.3")
            let url = base + "/v1/peer/message"
            try await withTLSClient(ca: pki.pki.caPath, identity: (pki.pki, "dc-b")) { client in
                // Correctly signed with the shared secret, but not over the witness's certificate.
                let impostor = try signedPeerRequest(heartbeat(from: "witness"), as: "witness")
                let refused = try await http(client, .POST, url, headers: impostor.headers, body: impostor.body, timeout: .seconds(10))
                #expect(refused.status == 401, "dc-b's certificate spoke for the witness")
                #expect(String(decoding: refused.body, as: UTF8.self).contains("does not name 127.0.0.3"))
                let own = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
                let accepted = try await http(client, .POST, url, headers: own.headers, body: own.body, timeout: .seconds(10))
                #expect(accepted.status == 202, "\(String(decoding: accepted.body, as: UTF8.self))")
            }
            try await withTLSClient(ca: pki.pki.caPath, identity: (pki.pki, "witness")) { client in
                let witness = try signedPeerRequest(heartbeat(from: "witness"), as: "witness")
                let accepted = try await http(client, .POST, url, headers: witness.headers, body: witness.body, timeout: .seconds(10))
                #expect(accepted.status == 202, "\(String(decoding: accepted.body, as: UTF8.self))")
            }
        }
    }

    @Test("a certificate naming a wildcard or another host does not speak for dc-b")
    func wildcardAndOtherHosts() async throws {
        try await withTLSAgent(clientAuth: .required, editYAML: {
            ownHosts($0).replacingOccurrences(of: "\"https://127.0.0.2:2\"", with: "\"https://agent-b.test:2\"")
        }) { _, base, pki, _, _ in
            try await pki.pki.issueLeaf("dc-b", alternativeNames: "DNS:*.test, IP:127.0.0.2")
            try await withTLSClient(ca: pki.pki.caPath, identity: (pki.pki, "dc-b")) { client in
                let request = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
                let refused = try await http(client, .POST, base + "/v1/peer/message", headers: request.headers, body: request.body, timeout: .seconds(10))
                #expect(refused.status == 401)
            }
            try await pki.pki.issueLeaf("dc-b", alternativeNames: "DNS:AGENT-B.test")
            try await withTLSClient(ca: pki.pki.caPath, identity: (pki.pki, "dc-b")) { client in
                let request = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
                let accepted = try await http(client, .POST, base + "/v1/peer/message", headers: request.headers, body: request.body, timeout: .seconds(10))
                #expect(accepted.status == 202, "host names compare without case")
            }
        }
    }
}
