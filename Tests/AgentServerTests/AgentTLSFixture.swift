import AgentServer
import AsyncHTTPClient
import Foundation
import InMemoryLogging
import LocalKafka
import Logging
import ServiceLifecycle
import SwitchbackConfiguration
import TestSupport
import Testing

/// Two certificate authorities for TLS tests: `pki` issued every agent's and the operator's
/// certificate; `rogue` is a stranger that issued certificates with the same names.
struct TestPKI {
    static let names = ["dc-a", "dc-b", "witness", "operator"]

    let pki: TestCertificates
    let rogue: TestCertificates

    static func issue(in directory: URL) async throws -> TestPKI {
        TestPKI(
            pki: try await TestCertificates.issue(in: directory.appendingPathComponent("pki"), names: names),
            rogue: try await TestCertificates.issue(in: directory.appendingPathComponent("rogue"), names: names))
    }
}

/// `agentYAML` with https:// agent URLs and a `tls:` section using `name`'s certificate.
func tlsAgentYAML(
    name: String, role: String = "member", port: Int, dataDir: String, bootstrapA: String, bootstrapB: String, ports: [String: Int],
    certificates: TestCertificates, clientAuth: TLSSettings.ClientAuthentication
) -> String {
    agentYAML(name: name, role: role, port: port, dataDir: dataDir, bootstrapA: bootstrapA, bootstrapB: bootstrapB, ports: ports)
        .replacingOccurrences(of: "\"http://", with: "\"https://")
        + """
        tls:
          certificate: \(certificates.certificatePath(name))
          private_key: { file: \(certificates.keyPath(name)) }
          ca: \(certificates.caPath)
          client_auth: \(clientAuth.rawValue)

        """
}

/// The private key of `name`'s certificate as the configuration would hold it.
func keySecret(_ certificates: TestCertificates, _ name: String) throws -> Secret {
    Secret(try String(contentsOfFile: certificates.keyPath(name), encoding: .utf8), source: .file(certificates.keyPath(name)))
}

/// An HTTP client trusting `ca` (nil: the system's roots), presenting `identity`'s certificate
/// from `issuer` when given; shut down after `body`.
func withTLSClient(
    ca: String?, identity: (issuer: TestCertificates, name: String)? = nil, _ body: (HTTPClient) async throws -> Void
) async throws {
    let tls = try OperatorTLS(
        caFile: ca, certificateFile: identity.map { $0.issuer.certificatePath($0.name) },
        privateKey: try identity.map { try keySecret($0.issuer, $0.name) })
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: tls.httpClientConfiguration())
    do {
        try await body(client)
        try await client.shutdown()
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Runs one real agent serving HTTPS (its clusters unreachable, its peers absent), with a
/// fresh `TestPKI` (dc-a's certificate naming `certificateNames` when given); `body` gets the agent, its https:// base URL, the PKI, the agent's
/// configuration file and the agent's log.
func withTLSAgent<T>(
    clientAuth: TLSSettings.ClientAuthentication, certificateNames: String? = nil, editYAML: (String) -> String = { $0 },
    _ body: (Agent, String, TestPKI, URL, InMemoryLogHandler) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory(prefix: "agent-tls") { directory in
        let pki = try await TestPKI.issue(in: directory)
        if let certificateNames { try await pki.pki.issueLeaf("dc-a", alternativeNames: certificateNames) }
        let port = try freeLoopbackPort()
        let yaml = editYAML(tlsAgentYAML(
            name: "dc-a", port: port, dataDir: directory.appendingPathComponent("data").path, bootstrapA: "127.0.0.1:1",
            bootstrapB: "127.0.0.1:2", ports: ["dc-a": port, "dc-b": 2, "witness": 3], certificates: pki.pki, clientAuth: clientAuth))
        let configFile = directory.appendingPathComponent("agent.yaml")
        try yaml.write(to: configFile, atomically: true, encoding: .utf8)
        let configuration = try AgentConfiguration.load(path: configFile.path, secrets: secrets)
        let log = InMemoryLogHandler()
        var logger = Logger(label: "test.agent.tls", factory: { _ in log })
        logger.logLevel = .notice
        let agent = Agent(configuration: configuration, logger: logger, warmUpLimit: .zero)
        let group = ServiceGroup(services: [agent], logger: logger)
        let running = Task { try await group.run() }
        do {
            let listening = await eventually { agent.listeningPort != nil }
            #expect(listening, "the agent did not start listening")
            let result = try await body(agent, "https://127.0.0.1:\(port)", pki, configFile, log)
            await group.triggerGracefulShutdown()
            try await running.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
    }
}

/// Three agents (dc-a, dc-b, witness) over HTTPS with mutual TLS, beside two LocalKafka
/// brokers, as `AgentTrio.start` makes them over HTTP.
func startTLSTrio(brokerA: LocalKafkaBroker, brokerB: LocalKafkaBroker, directory: URL, pki: TestCertificates) throws -> AgentTrio {
    try AgentTrio.start(brokerA: brokerA, brokerB: brokerB, directory: directory, scheme: "https") { name, role, port, dataDir, ports in
        tlsAgentYAML(
            name: name, role: role, port: port, dataDir: dataDir, bootstrapA: brokerA.bootstrapServers,
            bootstrapB: brokerB.bootstrapServers, ports: ports, certificates: pki, clientAuth: .required)
    }
}

/// Runs the `switchback` executable with `arguments` off the cooperative pool.
func runSwitchback(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String, errors: String) {
    let executable = try switchbackExecutable()
    return try await offCooperativePool {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}
