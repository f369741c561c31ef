import AgentServer
import Foundation
import InMemoryLogging
import Testing


@Suite("HTTP listener limits: idle timeout, connection cap, peer headers before body, long-poll cap", .timeLimit(.minutes(2)))
struct ListenerLimitsTests {
    @Test("a connection that sends nothing, or stops in the middle of a request head, is closed after idle_timeout")
    func idleConnectionsClosed() async throws {
        try await withAgent(editYAML: { $0 + "http: { idle_timeout: 300ms }\n" }) { agent, _, _, _ in
            let port = try #require(agent.listeningPort)
            let silent = try RawConnection(port: port)
            defer { silent.close() }
            let stalled = try RawConnection(port: port)
            defer { stalled.close() }
            try stalled.send("GET /healthz HTTP/1.1\r\nHost: agent\r\n")
            #expect(try await silent.receive(within: .seconds(10)) == "", "a silent connection stayed open")
            #expect(try await stalled.receive(within: .seconds(10)) == "", "a stalled request head kept its connection")
        }
    }

    @Test("beyond max_connections a connection waits unserved; a signed peer message gets through once one of the others closes")
    func connectionCap() async throws {
        try await withAgent(editYAML: { $0 + "http: { max_connections: 3, idle_timeout: 60s, max_long_polls: 2 }\n" }) { agent, base, client, _ in
            let port = try #require(agent.listeningPort)
            // Three kept-alive connections, each proven accepted by an answer.
            var held: [RawConnection] = []
            defer { for connection in held { connection.close() } }
            for _ in 0..<3 {
                let connection = try RawConnection(port: port)
                held.append(connection)
                let answer = try await connection.exchange("GET /healthz HTTP/1.1\r\nHost: agent\r\n\r\n")
                #expect(answer?.hasPrefix("HTTP/1.1 200") == true, "\(answer ?? "no answer")")
            }
            let fourth = try RawConnection(port: port)
            defer { fourth.close() }
            #expect(try await fourth.exchange("GET /healthz HTTP/1.1\r\nHost: agent\r\n\r\n", within: .seconds(1)) == nil, "served beyond the cap")

            let message = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
            let delivery = Task { try await http(client, .POST, base + "/v1/peer/message", headers: message.headers, body: message.body, timeout: .seconds(30)) }
            held.removeFirst().close()
            // The waiting raw connection is next in the accept queue, then the peer message.
            #expect(try await fourth.receive(within: .seconds(10))?.hasPrefix("HTTP/1.1 200") == true)
            fourth.close()
            #expect(try await delivery.value.status == 202)
        }
    }

    @Test("a peer route request is answered from its headers before any of its body arrives: unsigned 401, oversize 413")
    func peerHeadersBeforeBody() async throws {
        try await withAgent { agent, _, _, _ in
            let port = try #require(agent.listeningPort)
            let unsigned = try RawConnection(port: port)
            defer { unsigned.close() }
            let refused = try await unsigned.exchange(
                "POST /v1/peer/message HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n")
            #expect(refused?.hasPrefix("HTTP/1.1 401") == true, "\(refused ?? "no answer before the body")")

            let signed = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
            let headers = signed.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
            let oversize = try RawConnection(port: port)
            defer { oversize.close() }
            let tooLarge = try await oversize.exchange("POST /v1/peer/message HTTP/1.1\r\nHost: agent\r\n\(headers)Content-Length: 70000\r\n\r\n")
            #expect(tooLarge?.hasPrefix("HTTP/1.1 413") == true, "\(tooLarge ?? "no answer before the body")")
        }
    }

    @Test("more long-polls than max_long_polls get a 503 that says why; a place frees when a poll ends")
    func longPollCap() async throws {
        try await withAgent(editYAML: { $0 + "http: { max_connections: 16, max_long_polls: 2 }\n" }) { _, base, client, _ in
            let polls = (0..<2).map { _ in Task { try await http(client, .GET, base + "/v1/active?wait=4s&after=0") } }
            let waiting = await eventually {
                let metrics = (try? await http(client, .GET, base + "/metrics").body).map { String(decoding: $0, as: UTF8.self) } ?? ""
                return metrics.contains("switchback_sidecar_long_polls 2")
            }
            #expect(waiting)
            let third = try await http(client, .GET, base + "/v1/active?wait=4s&after=0")
            #expect(third.status == 503)
            #expect(String(decoding: third.body, as: UTF8.self).contains("http.max_long_polls"))
            // Without wait= the answer is immediate and not counted.
            #expect(try await http(client, .GET, base + "/v1/active").status == 200)
            for poll in polls { #expect(try await poll.value.status == 200) }
            #expect(try await http(client, .GET, base + "/v1/active?wait=100ms&after=0").status == 200)
        }
    }

    @Test("an agent listening beyond loopback without tls logs a warning at start")
    func plaintextWarningLogged() async throws {
        let log = InMemoryLogHandler()
        try await withAgent(editYAML: { $0.replacingOccurrences(of: "listen: 127.0.0.1:0", with: "listen: 0.0.0.0:0") }, log: log) { _, _, _, _ in
            #expect(log.entries.contains { $0.level == .warning && $0.message.description.contains("no tls section") })
        }
    }
}
