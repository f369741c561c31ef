import AgentServer
import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchbackConfiguration
import TestSupport


/// Three agents — dc-a, dc-b and a witness — on free loopback ports, with their configuration
/// files' text, data directories under one temporary directory and the sidecar call.
struct AgentLayout {
    static let names = ["dc-a", "dc-b", "witness"]
    /// The secrets every agent reads from its environment (`{ env: … }` in the configuration).
    static let secretEnvironment = ["SWITCHBACK_PEER_SECRET": "bench-peer-secret-0123456789abcdef", "SWITCHBACK_TOKEN": "bench-operator-token"]

    let timings: AgentTimings
    let directory: URL
    let ports: [String: Int]

    init(timings: AgentTimings) throws {
        self.timings = timings
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchback-bench-agents-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var ports: [String: Int] = [:]
        for name in Self.names { ports[name] = try freeLoopbackPort() }
        self.ports = ports
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(ports[name] ?? 0)" }

    func yaml(_ name: String, clusters: SiteClusters) -> String {
        """
        site: \(name)
        role: \(name == "witness" ? "witness" : "member")
        listen: 127.0.0.1:\(ports[name] ?? 0)
        data_dir: \(directory.appendingPathComponent(name).path)
        sites:
          dc-a: { bootstrap: "\(clusters.siteA.bootstrapServers)", agent: "\(url("dc-a"))" }
          dc-b: { bootstrap: "\(clusters.siteB.bootstrapServers)", agent: "\(url("dc-b"))" }
        witnesses:
          witness: { agent: "\(url("witness"))" }
        \(timings.yaml)
        auth:
          peer_secret: { env: SWITCHBACK_PEER_SECRET }
          operator_token: { env: SWITCHBACK_TOKEN }

        """
    }

    func configuration(_ name: String, clusters: SiteClusters) throws -> AgentConfiguration {
        try AgentConfiguration.parse(yaml: yaml(name, clusters: clusters), secrets: SecretResolver(environment: Self.secretEnvironment))
    }

    /// What agent `name` answers on `GET /v1/active`, or nil when it does not answer 200 with
    /// a well-formed body (not up yet, or busy).
    func active(_ name: String, client: HTTPClient) async -> ActiveAnswer? {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url(name) + "/v1/active"), timeout: .seconds(2))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status.code == 200 else { return nil }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(ActiveAnswer.self, from: Data(body.readableBytesView))
        } catch {
            return nil
        }
    }

    /// Removes the agents' data directories.
    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
