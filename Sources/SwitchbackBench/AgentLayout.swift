import AgentServer
import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchbackConfiguration

#if canImport(Glibc)
import Glibc
#endif

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

/// A TCP port free on loopback right now: bound to port 0, read back and released, so an agent
/// can bind it next (the agents must know each other's ports before any of them starts).
func freeLoopbackPort() throws -> Int {
    let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketDescriptor >= 0 else { throw BenchFailure("cannot open a socket to find a free port (errno \(errno))") }
    defer { close(socketDescriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(socketDescriptor, generic, length) == 0 && getsockname(socketDescriptor, generic, &length) == 0
        }
    }
    guard bound else { throw BenchFailure("cannot bind a loopback socket to find a free port (errno \(errno))") }
    return Int(UInt16(bigEndian: address.sin_port))
}
