import Consensus
import Foundation
import Sites
import SwitchbackConfiguration
import TestSupport
import Testing

/// The environment the examples and the minimal config resolve their secrets from.
let testEnvironment = [
    "SWITCHBACK_PEER_SECRET": "0123456789abcdef0123456789abcdef",
    "SWITCHBACK_TOKEN": "operator-token-for-tests",
    "KAFKA_A_PASSWORD": "kafka-a-password",
    "HOOK_SECRET": "hook-secret",
]
let resolver = SecretResolver(environment: testEnvironment)

/// The smallest valid configuration; tests append or replace lines to break it.
let minimal = """
    site: dc-a
    sites:
      dc-a: { bootstrap: "127.0.0.1:9092", agent: "http://127.0.0.1:7071" }
      dc-b: { bootstrap: "127.0.0.1:9093", agent: "http://127.0.0.1:7072" }
    witnesses:
      witness: { agent: "http://127.0.0.1:7073" }
    auth:
      peer_secret: { env: SWITCHBACK_PEER_SECRET }
      operator_token: { env: SWITCHBACK_TOKEN }

    """

func parse(_ yaml: String, environment: [String: String] = testEnvironment) throws(ConfigurationError) -> AgentConfiguration {
    try AgentConfiguration.parse(yaml: yaml, secrets: SecretResolver(environment: environment))
}

/// The error `yaml` fails with; the test fails if it parses.
func failure(_ yaml: String, environment: [String: String] = testEnvironment) -> ConfigurationError? {
    do {
        _ = try parse(yaml, environment: environment)
        Issue.record("expected the configuration to be refused")
        return nil
    } catch {
        return error
    }
}

let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("deploy/examples")

@Suite("Agent configuration")
struct AgentConfigurationTests {
    @Test("the shipped examples load, with the documented values (TLS on, certificates from a test CA in place of /etc/switchback/tls)")
    func examplesLoad() async throws {
        try await withTemporaryDirectory(prefix: "examples") { directory in
            try await checkExamples(in: directory)
        }
    }

    /// Loads the examples with their `/etc/switchback/tls/` files replaced by test certificates.
    private func checkExamples(in directory: URL) async throws {
        let pki = try await TestCertificates.issue(in: directory.appendingPathComponent("tls"), names: ["agent-a", "agent-b", "witness"])
        func load(_ name: String) throws -> AgentConfiguration {
            let text = try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: "/etc/switchback/tls/", with: pki.directory.path + "/")
            let file = directory.appendingPathComponent(name)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return try AgentConfiguration.load(path: file.path, secrets: resolver)
        }
        let a = try load("agent-dc-a.yaml")
        #expect(a.tls?.clientAuthentication == .required)
        #expect(a.tls?.certificatePath == pki.certificatePath("agent-a"))
        #expect(a.http == HTTPSettings(maxConnections: 512, idleTimeout: .seconds(10), maxLongPolls: 256))
        #expect(a.name.rawValue == "dc-a")
        #expect(a.role == .member)
        #expect(a.listen == ListenAddress(host: "0.0.0.0", port: 7070))
        #expect(a.sites.map(\.name.rawValue) == ["dc-a", "dc-b"])
        #expect(a.sites[0].bootstrapServers == ["kafka-a1:9092", "kafka-a2:9092"])
        #expect(a.sites[0].librdkafkaProperties()["sasl.password"] == "kafka-a-password")
        #expect(a.witnesses.map(\.name.rawValue) == ["witness"])
        #expect(a.detection.downAfter == .seconds(5))
        #expect(a.failover.blockPeriod == .seconds(600))
        #expect(a.alerts.webhooks.first?.format == .slack)
        #expect(a.automaticFailoverEnabled)
        #expect(a.warnings.isEmpty, "\(a.warnings)")
        #expect(a.peerURLs == [AgentID("dc-b"): "https://agent-b:7070", AgentID("witness"): "https://witness:7070"])

        let b = try load("agent-dc-b.yaml")
        #expect(b.warnings.isEmpty, "\(b.warnings)")
        #expect(b.tls?.certificatePath == pki.certificatePath("agent-b"))
        #expect(b.name.rawValue == "dc-b")
        #expect(b.initialSiteConfig == SiteConfig.initial(activeSite: "dc-a", standbySite: "dc-b"))

        let witness = try load("agent-witness.yaml")
        #expect(witness.warnings.isEmpty, "\(witness.warnings)")
        #expect(witness.role == .witness)
        #expect(witness.ownSite == nil)
        let voters = try witness.voters()
        #expect(voters.all == ["dc-a", "dc-b", "witness"])
        #expect(voters.witnesses == ["witness"])
    }

    @Test("defaults are the documented ones")
    func defaults() throws {
        let config = try parse(minimal)
        #expect(config.listen == ListenAddress(host: "0.0.0.0", port: 7070))
        #expect(config.dataDirectory == "/var/lib/switchback")
        #expect(config.detection.probeInterval == .seconds(1))
        #expect(config.detection.downAfter == .seconds(5))
        #expect(config.detection.lease == .seconds(4))
        #expect(config.failover.automatic)
        #expect(config.failover.failback == .manual)
        #expect(config.failover.homeSite.rawValue == "dc-a")
        #expect(config.mirror.policy == .prefix)
        #expect(config.mirror.flows == .auto)
        let policy = config.electionPolicy()
        #expect(policy.leaseDuration == .seconds(4))
        #expect(policy.automaticFailover)
    }

    @Test("durations take ms, s, m, h and decimals")
    func durations() throws {
        let config = try parse(minimal + "detection: { probe_interval: 250ms, down_after: 1.5s, lease: 2s }\nfailover: { block_period: 10m }\n")
        #expect(config.detection.probeInterval == .milliseconds(250))
        #expect(config.detection.downAfter == .milliseconds(1500))
        #expect(config.failover.blockPeriod == .seconds(600))
    }

    @Test("an unknown key is an error with a suggestion")
    func unknownKeySuggests() throws {
        let error = try #require(failure(minimal + "detection: { probe_interval: 1s, down_afer: 5s }\n"))
        #expect(error.code == .unknownKey)
        #expect(error.keyPath == "detection.down_afer")
        #expect(error.fix.contains("did you mean 'down_after'?"))
        let top = try #require(failure(minimal + "dataDir: /tmp\n"))
        #expect(top.code == .unknownKey)
        #expect(top.fix.contains("data_dir"))
    }

    @Test("a missing required key names it")
    func missingKey() throws {
        let error = try #require(failure(minimal.replacingOccurrences(of: "site: dc-a\n", with: "")))
        #expect(error.code == .missingKey)
        #expect(error.keyPath == "site")
        let noAgent = try #require(failure(minimal.replacingOccurrences(of: ", agent: \"http://127.0.0.1:7072\"", with: "")))
        #expect(noAgent.keyPath == "sites.dc-b.agent")
    }

    @Test("a bad duration names the key, the value and the units")
    func badDuration() throws {
        let error = try #require(failure(minimal + "detection: { down_after: 5 }\n"))
        #expect(error.code == .invalidValue)
        #expect(error.keyPath == "detection.down_after")
        #expect(error.problem.contains("\"5\""))
        #expect(error.fix.contains("ms, s, m"))
        let zero = try #require(failure(minimal + "detection: { probe_interval: 0s }\n"))
        #expect(zero.keyPath == "detection.probe_interval")
    }

    @Test("election rules are checked at load: lease longer than the probe interval")
    func electionRules() throws {
        let error = try #require(failure(minimal + "detection: { probe_interval: 2s, down_after: 5s, lease: 1s }\n"))
        #expect(error.keyPath == "detection.lease")
        let downAfter = try #require(failure(minimal + "detection: { probe_interval: 2s, down_after: 1s }\n"))
        #expect(downAfter.keyPath == "detection.down_after")
    }

    @Test("wrong types are named")
    func wrongTypes() throws {
        let error = try #require(failure(minimal + "mirror: { topics: { include: orders } }\n"))
        #expect(error.code == .wrongType)
        #expect(error.keyPath == "mirror.topics.include")
        let witnessList = try #require(failure(minimal.replacingOccurrences(of: "witness: { agent: \"http://127.0.0.1:7073\" }", with: "- \"http://127.0.0.1:7073\"")))
        #expect(witnessList.keyPath == "witnesses")
        #expect(witnessList.fix.contains("witnesses: { witness:"))
        let bool = try #require(failure(minimal + "failover: { automatic: maybe }\n"))
        #expect(bool.keyPath == "failover.automatic")
    }

    @Test("invalid values: site names, enums, URLs, addresses, flows, regexes")
    func invalidValues() throws {
        #expect(failure(minimal.replacingOccurrences(of: "site: dc-a", with: "site: dc-c"))?.keyPath == "site")
        #expect(failure(minimal.replacingOccurrences(of: "site: dc-a", with: "site: DC_A"))?.keyPath == "site")
        let role = try #require(failure(minimal + "role: witnes\n"))
        #expect(role.keyPath == "role")
        #expect(role.fix.contains("did you mean 'witness'"))
        #expect(failure(minimal + "listen: localhost\n")?.keyPath == "listen")
        #expect(failure(minimal.replacingOccurrences(of: "http://127.0.0.1:7072", with: "agent-b:7072"))?.keyPath == "sites.dc-b.agent")
        #expect(failure(minimal.replacingOccurrences(of: "127.0.0.1:9093", with: "kafka-b"))?.keyPath == "sites.dc-b.bootstrap")
        #expect(failure(minimal + "mirror: { flows: [{ from: dc-a, to: dc-z }] }\n")?.keyPath == "mirror.flows[0].to")
        #expect(failure(minimal + "mirror: { flows: [{ from: dc-a, to: dc-a }] }\n")?.keyPath == "mirror.flows[0]")
        #expect(failure(minimal + "mirror: { policy: suffix }\n")?.keyPath == "mirror.policy")
        #expect(failure(minimal + "mirror: { topics: { include: [\"ok\", \"(\"] } }\n")?.keyPath == "mirror.topics.include[1]")
        #expect(failure(minimal + "failover: { home_site: dc-z }\n")?.keyPath == "failover.home_site")
        #expect(failure(minimal + "failover: { failback: automatic }\n")?.keyPath == "failover.failback_after")
        #expect(failure(minimal + "alerts: { webhooks: [ { url: \"https://h/x\", format: teams } ] }\n")?.keyPath == "alerts.webhooks[0].format")
    }

    @Test("explicit flows and automatic failback are read")
    func flowsAndFailback() throws {
        let config = try parse(minimal + "mirror: { flows: [{ from: dc-a, to: dc-b }, { from: dc-b, to: dc-a }] }\nfailover: { failback: automatic, failback_after: 30m }\n")
        #expect(config.mirror.flows == .fixed([FlowRoute(from: SiteID("dc-a"), to: SiteID("dc-b")), FlowRoute(from: SiteID("dc-b"), to: SiteID("dc-a"))]))
        #expect(config.failover.failback == .automatic(healthyFor: .seconds(1800)))
    }

    @Test("secrets: a missing environment variable is named")
    func missingEnvironmentVariable() throws {
        var environment = testEnvironment
        environment["SWITCHBACK_TOKEN"] = nil
        let error = try #require(failure(minimal, environment: environment))
        #expect(error.code == .unresolvedSecret)
        #expect(error.keyPath == "auth.operator_token")
        #expect(error.problem.contains("SWITCHBACK_TOKEN"))
    }

    @Test("secrets: an unreadable file is named; a readable one is used without its newline")
    func secretFiles() throws {
        let missing = "/nonexistent/switchback/peer.key"
        let error = try #require(failure(minimal.replacingOccurrences(of: "peer_secret: { env: SWITCHBACK_PEER_SECRET }", with: "peer_secret: { file: \(missing) }")))
        #expect(error.code == .unresolvedSecret)
        #expect(error.keyPath == "auth.peer_secret")
        #expect(error.problem.contains(missing))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString).key")
        try "a-secret-of-enough-length-123456\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let config = try parse(minimal.replacingOccurrences(of: "peer_secret: { env: SWITCHBACK_PEER_SECRET }", with: "peer_secret: { file: \(file.path) }"))
        #expect(config.auth.peerSecret.revealed() == "a-secret-of-enough-length-123456")
        #expect(config.auth.peerSecret.source == .file(file.path))
    }

    @Test("secrets: inline credentials are refused for auth, warned about for Kafka")
    func inlineSecrets() throws {
        let error = try #require(failure(minimal.replacingOccurrences(of: "operator_token: { env: SWITCHBACK_TOKEN }", with: "operator_token: hunter2hunter2")))
        #expect(error.keyPath == "auth.operator_token")
        #expect(error.problem.contains("inline"))
        #expect(!error.description.contains("hunter2"))
        let short = try #require(failure(minimal, environment: testEnvironment.merging(["SWITCHBACK_PEER_SECRET": "short"]) { $1 }))
        #expect(short.keyPath == "auth.peer_secret")

        let config = try parse(minimal.replacingOccurrences(of: "agent: \"http://127.0.0.1:7072\" }", with: "agent: \"http://127.0.0.1:7072\", kafka: { sasl.password: inline-pw, security.protocol: SASL_SSL } }"))
        #expect(config.warnings.contains { $0.contains("sites.dc-b.kafka.sasl.password") })
        #expect(config.sites[1].librdkafkaProperties()["sasl.password"] == "inline-pw")
        #expect(config.sites[1].kafkaProperties["security.protocol"] == .plain("SASL_SSL"))
    }

    @Test("secrets never print")
    func secretsNeverPrint() throws {
        let config = try parse(minimal)
        #expect("\(config.auth.peerSecret)" == "***")
        #expect(String(reflecting: config.auth.operatorToken) == "Secret(env SWITCHBACK_TOKEN, ***)")
        let encoded = try JSONEncoder().encode(["token": config.auth.operatorToken])
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"token":"***"}"#)
        #expect(!"\(config.auth)".contains("operator-token-for-tests"))
    }

    @Test("two sites without a witness: warning, automatic failover off, voters still form")
    func twoSitesNoWitness() throws {
        let yaml = minimal.replacingOccurrences(of: "witnesses:\n  witness: { agent: \"http://127.0.0.1:7073\" }\n", with: "")
        let config = try parse(yaml)
        #expect(config.witnesses.isEmpty)
        #expect(!config.automaticFailoverEnabled)
        #expect(!config.electionPolicy().automaticFailover)
        #expect(config.warnings.contains { $0.contains("no witness") })
        #expect(try config.voters().count == 2)
    }

    @Test("a witness must be listed; its name must differ from every site")
    func witnessRules() throws {
        #expect(failure(minimal.replacingOccurrences(of: "site: dc-a", with: "site: w2\nrole: witness"))?.keyPath == "site")
        #expect(failure(minimal.replacingOccurrences(of: "witness: { agent", with: "dc-a: { agent"))?.keyPath == "witnesses.dc-a")
        let witness = try parse(minimal.replacingOccurrences(of: "site: dc-a", with: "site: witness\nrole: witness"))
        #expect(witness.agentID == "witness")
        #expect(witness.peerURLs.count == 2)
    }

    @Test("duplicate keys and broken YAML are refused")
    func structure() throws {
        // Yams refuses a duplicated key while parsing; the message names it and its line.
        let duplicate = try #require(failure(minimal + "site: dc-b\n"))
        #expect(duplicate.code == .unreadable)
        #expect(duplicate.problem.contains("duplicate"))
        #expect(failure("site: [unclosed\n")?.code == .unreadable)
        #expect(failure("")?.code == .unreadable)
        #expect(failure("- a\n- b\n")?.code == .wrongType)
        do {
            _ = try AgentConfiguration.load(path: "/nonexistent/agent.yaml", secrets: resolver)
            Issue.record("expected an unreadable file error")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.problem.contains("/nonexistent/agent.yaml"))
        }
    }

    @Test("error descriptions name the key, the line and the fix")
    func errorDescription() throws {
        let error = try #require(failure(minimal + "detection: { down_after: soon }\n"))
        #expect(error.description.hasPrefix("'detection.down_after' (line 10): \"soon\" is not a duration;"))
    }
}
