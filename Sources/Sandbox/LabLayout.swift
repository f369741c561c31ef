import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where everything of one sandbox run lives: the directory, the agents' ports and the links
/// between them, the secrets, and the agents' configuration files.
///
/// Secrets are made fresh for every run, written to files readable only by this user and
/// handed to the agents through `{ file: … }` in their configuration: never on a command line,
/// never printed. The agents serve their status page without the token (`status_page:
/// public`): they listen on loopback only, and the page holds no secrets.
public struct LabLayout: Sendable {
    /// The two sites with clusters, in order; the first is active at the start.
    public static let sites = ["dc-a", "dc-b"]
    /// The three voters: an agent beside each cluster and the witness.
    public static let agents = ["dc-a", "dc-b", "witness"]
    /// The topic the workload writes, and the pattern its group reads (the topic and its
    /// mirrored copies under the `prefix` policy).
    public static let topic = "orders"
    public static let topicPattern = "^(.*\\.)?orders$"

    /// The copy of ``topic`` that a flow from `site` writes at the other site (the agents run
    /// the `prefix` naming policy: `dc-a.orders`).
    public static func copyTopic(of site: String) -> String { "\(site).\(topic)" }

    public let directory: URL
    /// Each agent's API port (its sidecar, operator and peer routes); ``Lab/start`` replaces
    /// one that a broker or a link was given meanwhile.
    public internal(set) var agentPorts: [String: Int]
    public let peerSecret: String
    public let operatorToken: String
    public let timings: LabTimings

    public init(directory: URL, agentPorts: [String: Int], timings: LabTimings) {
        self.directory = directory
        self.agentPorts = agentPorts
        self.timings = timings
        self.peerSecret = Self.randomSecret()
        self.operatorToken = Self.randomSecret()
    }

    /// Picks a free loopback port for each agent (bound, read, released).
    public static func freeAgentPorts() throws -> [String: Int] {
        var ports: [String: Int] = [:]
        for agent in agents { ports[agent] = try freeLoopbackPort() }
        return ports
    }

    public func agentURL(_ agent: String) -> String { "http://127.0.0.1:\(agentPorts[agent] ?? 0)" }
    public func agentDirectory(_ agent: String) -> URL { directory.appendingPathComponent("agent-\(agent)", isDirectory: true) }
    public func brokerDirectory(_ site: String) -> URL { directory.appendingPathComponent("kafka-\(site)", isDirectory: true) }
    public func configurationFile(_ agent: String) -> URL { directory.appendingPathComponent("agent-\(agent).yaml") }
    public func log(_ name: String) -> URL { directory.appendingPathComponent("\(name).log") }
    var secretsDirectory: URL { directory.appendingPathComponent("secrets", isDirectory: true) }

    /// Writes the secrets (mode 0600) and every agent's configuration.
    /// - Parameters:
    ///   - bootstrap: each site's `host:port`.
    ///   - linkPort: the port of the link from one agent to another (`linkPort(from, to)`).
    public func writeConfigurations(bootstrap: [String: String], linkPort: (String, String) -> Int) throws {
        try FileManager.default.createDirectory(at: secretsDirectory, withIntermediateDirectories: true)
        try Self.writePrivate(peerSecret, to: secretsDirectory.appendingPathComponent("peer"))
        try Self.writePrivate(operatorToken, to: secretsDirectory.appendingPathComponent("token"))
        for agent in Self.agents {
            func url(_ other: String) -> String {
                other == agent ? agentURL(agent) : "http://127.0.0.1:\(linkPort(agent, other))"
            }
            let yaml = """
                # Written by `switchback sandbox` for this run only.
                site: \(agent)
                role: \(agent == "witness" ? "witness" : "member")
                listen: 127.0.0.1:\(agentPorts[agent] ?? 0)
                data_dir: \(agentDirectory(agent).path)
                sites:
                  dc-a: { bootstrap: "\(bootstrap["dc-a"] ?? "")", agent: "\(url("dc-a"))" }
                  dc-b: { bootstrap: "\(bootstrap["dc-b"] ?? "")", agent: "\(url("dc-b"))" }
                witnesses:
                  witness: { agent: "\(url("witness"))" }
                mirror: { policy: prefix, topics: { include: ["\(Self.topic)"] }, flows: auto }
                detection: { probe_interval: \(timings.probeInterval), down_after: \(timings.downAfter), lease: \(timings.lease), probe_timeout: \(timings.probeTimeout) }
                failover: { automatic: true, failback: manual, candidate_backoff: \(timings.candidateBackoff) }
                status_page: public
                auth: { peer_secret: { file: \(secretsDirectory.appendingPathComponent("peer").path) }, operator_token: { file: \(secretsDirectory.appendingPathComponent("token").path) } }

                """
            try yaml.write(to: configurationFile(agent), atomically: true, encoding: .utf8)
        }
    }

    static func writePrivate(_ text: String, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else { throw SandboxError("cannot write \(url.path)") }
    }

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// The agents' detection timings, fast so a failover takes seconds (written into their files).
public struct LabTimings: Sendable {
    public var probeInterval = "250ms"
    public var downAfter = "1s"
    public var lease = "2s"
    public var probeTimeout = "800ms"
    public var candidateBackoff = "1s"

    public init() {}
}

/// A loopback port nothing listens on right now (the kernel's choice for port 0).
func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw SandboxError("cannot open a socket to find a free port: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw SandboxError("cannot bind a loopback socket to find a free port: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard named == 0 else { throw SandboxError("cannot read the port of a loopback socket: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
