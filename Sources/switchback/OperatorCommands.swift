import AgentServer
import ArgumentParser
import AsyncHTTPClient
import Foundation
import SwitchbackConfiguration

/// Options every operator command shares: which agent, which token, which output.
struct OperatorOptions: ParsableArguments {
    @Option(help: "Base URL of the agent's HTTP API.")
    var agent = "http://127.0.0.1:7070"

    @Option(help: "Environment variable holding the operator token.")
    var tokenEnv = "SWITCHBACK_TOKEN"

    @Flag(help: "Print the agent's JSON answer instead of text.")
    var json = false

    @Option(help: "PEM bundle of the CA that issued the agents' certificates, for an https:// --agent.")
    var ca: String?

    @Option(help: "Client certificate (PEM) for agents with tls.client_auth: required; needs --key.")
    var cert: String?

    @Option(help: "The private key (PEM file) of --cert.")
    var key: String?

    @Option(help: ArgumentHelp(
        "An agent's configuration file: its tls section gives what --ca, --cert and --key do not.",
        discussion: "Reads tls.ca, and with client_auth: required the agent's certificate and key; nothing else of the file."))
    var config: String?

    func validate() throws {
        guard agent.hasPrefix("http://") || agent.hasPrefix("https://") else {
            throw ValidationError("--agent \(agent) is not an http(s) URL; for example --agent http://agent-a:7070")
        }
    }

    func token() throws -> String {
        guard let token = ProcessInfo.processInfo.environment[tokenEnv], !token.isEmpty else {
            throw ValidationError("the operator token is not set: export \(tokenEnv)=… (or name another variable with --token-env)")
        }
        return token
    }

    /// The HTTP client's settings: TLS from --ca/--cert/--key, then from --config's tls section.
    func clientConfiguration() throws -> HTTPClient.Configuration {
        let fromFile: OperatorTLSSettings?
        do {
            fromFile = try config.flatMap { path throws(ConfigurationError) in try OperatorTLSSettings.load(path: path) }
        } catch {
            throw ValidationError("--config \(config ?? ""): \(error)")
        }
        var privateKey = fromFile?.privateKey
        if let key {
            do {
                privateKey = Secret(String(decoding: try Data(contentsOf: URL(fileURLWithPath: key)), as: UTF8.self), source: .file(key))
            } catch {
                throw ValidationError("--key \(key): cannot read it (\((error as NSError).localizedDescription)); give a readable PEM key file")
            }
        }
        let caFile = ca ?? fromFile?.caPath
        let certificateFile = cert ?? fromFile?.certificatePath
        let secure = agent.lowercased().hasPrefix("https://")
        guard secure || caFile != nil || certificateFile != nil || privateKey != nil else { return HTTPClient.Configuration() }
        return try OperatorTLS(caFile: caFile, certificateFile: certificateFile, privateKey: privateKey).httpClientConfiguration()
    }

    /// Runs `call` against the agent and prints its answer.
    func perform(_ call: (OperatorClient) async throws -> OperatorClient.Reply, render: (OperatorClient.Reply) throws -> String) async throws {
        let token = try token()
        let http: HTTPClient
        do {
            http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: try clientConfiguration())
        } catch {
            FileHandle.standardError.write(Data("switchback: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let outcome: Result<String, any Error>
        do {
            let reply = try await call(OperatorClient(baseURL: agent, token: token, client: http))
            outcome = .success(json ? String(decoding: reply.body, as: UTF8.self) : try render(reply))
        } catch {
            outcome = .failure(error)
        }
        try? await http.shutdown()
        switch outcome {
        case .success(let text):
            if !text.isEmpty { print(text) }
        case .failure(let error):
            FileHandle.standardError.write(Data("switchback: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show an agent's view: active site, epoch, lease, sites, recent decisions.")

    @OptionGroup var options: OperatorOptions

    func run() async throws {
        try await options.perform({ try await $0.status() }) { StatusText.render(try $0.decode(AgentStatusReport.self)) }
    }
}

struct MaintenanceCommand: AsyncParsableCommand {
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    static let configuration = CommandConfiguration(
        commandName: "maintenance", abstract: "Pause (on) or resume (off) automatic failover and failback on every agent.")

    @Argument(help: "on or off")
    var mode: Switch

    @OptionGroup var options: OperatorOptions

    func run() async throws {
        try await options.perform({ try await $0.setMaintenance(mode == .on) }) { StatusText.render(try $0.decode(OperatorResponse.self)) }
    }
}

struct AcknowledgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack", abstract: "Acknowledge the latest automatic failover, lifting its block period.")

    @OptionGroup var options: OperatorOptions

    func run() async throws {
        try await options.perform({ try await $0.acknowledge() }) { StatusText.render(try $0.decode(OperatorResponse.self)) }
    }
}

struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Make another site active, through a vote of the agents.",
        discussion: """
            Without overrides the agents still vote, wait out the old lease and commit to a majority;
            the target must look healthy. --planned moves a healthy active site (switchover).
            --force-ignore-health skips the target health check. --force-without-majority decides
            alone: only when no majority can be reached (two sites, one gone) and you know the other
            site is down; doing it on both sides at once makes two active sites.
            """)

    @Option(help: "The site to make active.")
    var to: String

    @Flag(help: "Planned switchover of a healthy active site instead of a failover: runs the planned-switchover runbook.")
    var planned = false

    @Flag(help: "With --planned: answer the runbook's confirmation with yes.")
    var yes = false

    @Flag(help: "Do not require the target to look healthy.")
    var forceIgnoreHealth = false

    @Flag(help: "Decide without a majority of voters (dangerous; see --help).")
    var forceWithoutMajority = false

    @OptionGroup var options: OperatorOptions

    func validate() throws {
        if yes && !planned { throw ValidationError("--yes goes with --planned (it answers the planned-switchover runbook's confirmation)") }
        if planned && (forceIgnoreHealth || forceWithoutMajority) {
            throw ValidationError("--planned takes no --force flags: a switchover needs both sites healthy")
        }
    }

    func run() async throws {
        if planned {
            try await RunbookFollow.plannedSwitchover(options, to: to, yes: yes)
            return
        }
        let request = MoveRequest(to: to, ignoreHealth: forceIgnoreHealth, withoutMajority: forceWithoutMajority)
        try await options.perform({ try await $0.failover(request) }) { StatusText.render(try $0.decode(OperatorResponse.self)) }
    }
}
