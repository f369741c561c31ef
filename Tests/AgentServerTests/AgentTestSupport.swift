import AgentServer
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchbackConfiguration


let peerSecret = "test-peer-secret-0123456789abcdef"
let operatorToken = "test-operator-token-xyz"
let secrets = SecretResolver(environment: ["PEER": peerSecret, "TOKEN": operatorToken])

/// Agent configuration YAML for tests: fast timings, secrets from the test resolver.
func agentYAML(
    name: String, role: String = "member", port: Int, dataDir: String, bootstrapA: String, bootstrapB: String,
    ports: [String: Int], witness: Bool = true
) -> String {
    """
    site: \(name)
    role: \(role)
    listen: 127.0.0.1:\(port)
    data_dir: \(dataDir)
    sites:
      dc-a: { bootstrap: "\(bootstrapA)", agent: "http://127.0.0.1:\(ports["dc-a"] ?? 1)" }
      dc-b: { bootstrap: "\(bootstrapB)", agent: "http://127.0.0.1:\(ports["dc-b"] ?? 1)" }
    \(witness ? "witnesses:\n  witness: { agent: \"http://127.0.0.1:\(ports["witness"] ?? 1)\" }" : "")
    detection: { probe_interval: 250ms, down_after: 1s, lease: 2s, probe_timeout: 800ms }
    failover: { automatic: true, block_period: 10m, candidate_backoff: 1s, election_timeout: 4s }
    auth:
      peer_secret: { env: PEER }
      operator_token: { env: TOKEN }

    """
}

/// A minimal HTTP call on loopback returning status and body.
func http(
    _ client: HTTPClient, _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
    timeout: Duration = .seconds(40)
) async throws -> (status: Int, body: Data) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
    let buffer = try await response.body.collect(upTo: 8 << 20)
    return (Int(response.status.code), Data(buffer.readableBytesView))
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(type, from: data)
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}
