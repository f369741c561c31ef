import Consensus
import Foundation
import Mirror
import Sites
import Yams

extension AgentConfiguration {
    /// Reads and validates the configuration file at `path`, resolving its secrets.
    /// - Throws: ``ConfigurationError`` naming the key, the bad value and the fix.
    public static func load(path: String, secrets: SecretResolver = SecretResolver()) throws(ConfigurationError) -> AgentConfiguration {
        let text = try readText(path, fix: "check the path given to --config and that the agent's user can read it")
        return try parse(yaml: text, secrets: secrets)
    }

    /// The text of the configuration file at `path`, or an error saying so with `fix`.
    static func readText(_ path: String, fix: String) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(
                .unreadable, keyPath: "", problem: "cannot read \(path) (\((error as NSError).localizedDescription))", fix: fix)
        }
    }

    /// Parses and validates configuration text.
    /// - Throws: ``ConfigurationError`` naming the key, the bad value and the fix.
    public static func parse(yaml: String, secrets: SecretResolver = SecretResolver()) throws(ConfigurationError) -> AgentConfiguration {
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(.unreadable, keyPath: "", problem: "the file is empty", fix: "start from deploy/examples/agent-dc-a.yaml")
            }
            root = composed
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(.unreadable, keyPath: "", problem: "not valid YAML: \(error)", fix: "fix the YAML syntax at the position shown")
        }
        var parser = ConfigurationParser(secrets: secrets)
        return try parser.parse(YAMLValue(node: root, path: ""))
    }
}

/// Walks the YAML tree once, building the typed configuration and collecting warnings.
struct ConfigurationParser {
    let secrets: SecretResolver
    var warnings: [String] = []

    static let topKeys = ["site", "role", "listen", "data_dir", "sites", "witnesses", "mirror", "detection", "failover", "auth", "alerts", "tls", "http", "status_page"]

    init(secrets: SecretResolver) { self.secrets = secrets }

    mutating func parse(_ root: YAMLValue) throws(ConfigurationError) -> AgentConfiguration {
        let top = try root.mapping(allowed: Self.topKeys, example: "site: dc-a, sites: {...}, auth: {...}")
        let nameValue = try top.required("site", example: "dc-a")
        let name = try siteName(nameValue)
        let role: AgentRole = try top["role"]?.choice([("member", .member), ("witness", .witness)]) ?? .member
        let listen = try top["listen"].map { v throws(ConfigurationError) in try listenAddress(v) } ?? ListenAddress(host: "0.0.0.0", port: 7070)
        let dataDirectory = try top["data_dir"]?.string(example: "/var/lib/switchback") ?? "/var/lib/switchback"

        // Before the sites: whether tls is set decides the scheme every agent URL must have.
        let tls = try top["tls"].map { v throws(ConfigurationError) in try parseTLS(v) }
        let sites = try parseSites(try top.required("sites", example: "{ dc-a: { bootstrap: \"kafka-a:9092\", agent: \"http://agent-a:7070\" } }"), tls: tls != nil)
        let witnesses = try top["witnesses"].map { v throws(ConfigurationError) in try parseWitnesses(v, sites: sites, tls: tls != nil) } ?? []
        let siteNames = sites.map(\.name)

        switch role {
        case .member where !siteNames.contains(name):
            throw nameValue.error(
                .invalidValue, "'\(name)' is not one of the sites (\(siteNames.map(\.rawValue).joined(separator: ", ")))",
                fix: "set site to this agent's site, or set role: witness for a witness")
        case .witness where !witnesses.contains(where: { $0.name == name }):
            throw nameValue.error(
                .invalidValue, "witness '\(name)' is not listed under witnesses",
                fix: "add \(name) under witnesses with its agent URL")
        default: break
        }

        let mirror = try parseMirror(top["mirror"], sites: siteNames)
        let detection = try parseDetection(top["detection"])
        var failover = try parseFailover(top["failover"], sites: siteNames)
        let auth = try parseAuth(try top.required("auth", example: "{ peer_secret: { env: SWITCHBACK_PEER_SECRET }, operator_token: { env: SWITCHBACK_TOKEN } }"))
        let alerts = try parseAlerts(top["alerts"])
        let http = try parseHTTP(top["http"])
        if let warning = Self.plaintextWarning(listen: listen, tls: tls != nil) { warnings.append(warning) }
        if tls?.clientAuthentication == .required, let warning = Self.sharedHostWarning(sites: sites, witnesses: witnesses) {
            warnings.append(warning)
        }

        if sites.count == 2 && witnesses.isEmpty && failover.automatic {
            warnings.append(
                "two sites and no witness: automatic failover is disabled (either side alone cannot tell a dead peer from a cut link); add a witness, or fail over with `switchback failover`")
            failover.automatic = false
        }
        if (sites.count + witnesses.count) % 2 == 0 && !(sites.count == 2 && witnesses.isEmpty) {
            warnings.append("\(sites.count + witnesses.count) voters: an even number tolerates no more failures than one fewer; add or remove a witness")
        }

        var configuration = AgentConfiguration(
            name: name, role: role, listen: listen, dataDirectory: dataDirectory, sites: sites, witnesses: witnesses,
            mirror: mirror, detection: detection, failover: failover, auth: auth, alerts: alerts, tls: tls, http: http, warnings: [])
        // The election has its own consistency rules (lease longer than the probe interval…);
        // check them now so a bad file fails at load, naming the key.
        do {
            let voters = try configuration.voters()
            try configuration.electionPolicy().validate(voters: voters)
        } catch {
            throw ConfigurationError(.invalidValue, keyPath: error.key, problem: error.message, fix: "change \(error.key) in the configuration")
        }
        if detection.lease <= detection.probeInterval * 2 {
            warnings.append("detection.lease (\(DurationText.format(detection.lease))) is at most twice probe_interval: one late renewal fences the active site; a lease of 3–4 probe intervals is safer")
        }
        configuration.statusPage = try parseStatusPage(top["status_page"])
        configuration.warnings = warnings
        return configuration
    }

    // MARK: - Scalars

    func siteName(_ value: YAMLValue) throws(ConfigurationError) -> SiteID {
        let text = try value.string(example: "dc-a")
        do {
            return try SiteID(validating: text)
        } catch {
            throw value.error(.invalidValue, error.description, fix: "use 1–63 characters of a-z, 0-9 and '-', such as dc-a")
        }
    }

    func listenAddress(_ value: YAMLValue) throws(ConfigurationError) -> ListenAddress {
        let text = try value.string(example: "0.0.0.0:7070")
        guard let (host, port) = Self.hostPort(text) else {
            throw value.error(.invalidValue, "\"\(text)\" is not host:port", fix: "write it as 0.0.0.0:7070 or [::]:7070")
        }
        return ListenAddress(host: host, port: port)
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        host = host.trimmingPrefixSpaces()
        guard !host.isEmpty, !host.contains(" "), let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    func agentURL(_ value: YAMLValue) throws(ConfigurationError) -> String {
        var text = try value.string(example: "https://agent-a:7070")
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme, scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw value.error(.invalidValue, "\"\(text)\" is not an http(s) URL", fix: "write the agent's base URL, such as https://agent-a:7070")
        }
        return text
    }

    // MARK: - Sections

    mutating func parseSites(_ value: YAMLValue, tls: Bool) throws(ConfigurationError) -> [SiteSettings] {
        let mapping = try value.mapping(allowed: nil, example: "{ dc-a: { bootstrap: \"kafka-a:9092\", agent: \"http://agent-a:7070\" } }")
        var sites: [SiteSettings] = []
        for (key, entry) in mapping.entries {
            let name = try siteName(YAMLValue(node: .scalar(.init(key)), path: entry.path))
            let fields = try entry.mapping(allowed: ["bootstrap", "agent", "kafka"], example: "{ bootstrap: \"kafka-a:9092\", agent: \"http://agent-a:7070\" }")
            let bootstrap = try bootstrapServers(try fields.required("bootstrap", example: "\"kafka-a1:9092,kafka-a2:9092\""))
            let agent = try agentURL(try fields.required("agent", example: "\"https://agent-a:7070\""), tls: tls)
            var properties: [String: KafkaPropertyValue] = [:]
            if let kafka = fields["kafka"] {
                for (property, propertyValue) in try kafka.mapping(allowed: nil, example: "{ security.protocol: SASL_SSL }").entries {
                    properties[property] = try kafkaProperty(property, propertyValue)
                }
            }
            sites.append(SiteSettings(name: name, bootstrapServers: bootstrap, agentURL: agent, kafkaProperties: properties))
        }
        guard sites.count >= 2 else {
            throw value.error(.invalidValue, "\(sites.count) site(s) configured", fix: "list every site (at least two) with its bootstrap servers and agent URL")
        }
        return sites
    }

    func bootstrapServers(_ value: YAMLValue) throws(ConfigurationError) -> [String] {
        let entries: [String]
        if value.isScalar {
            entries = try value.string(example: "\"kafka-a1:9092,kafka-a2:9092\"").split(separator: ",").map {
                String($0).trimmingCharacters(in: .whitespaces)
            }
        } else {
            entries = try value.stringList(example: "[\"kafka-a1:9092\", \"kafka-a2:9092\"]")
        }
        guard !entries.isEmpty else {
            throw value.error(.invalidValue, "no brokers listed", fix: "list at least one host:port")
        }
        for entry in entries where Self.hostPort(entry) == nil {
            throw value.error(.invalidValue, "\"\(entry)\" is not host:port", fix: "write each broker as host:port, such as kafka-a1:9092")
        }
        return entries
    }

    mutating func kafkaProperty(_ property: String, _ value: YAMLValue) throws(ConfigurationError) -> KafkaPropertyValue {
        if property == "bootstrap.servers" {
            throw value.error(.invalidValue, "bootstrap.servers is set by the site's bootstrap key", fix: "move the brokers to the site's bootstrap key")
        }
        if value.isScalar {
            let text = try value.string(example: "a value, or { env: NAME } / { file: PATH } for secrets")
            if Self.looksSecret(property) {
                warnings.append("\(value.path) is written inline in the configuration file; use { env: NAME } or { file: PATH } so the file holds no secrets")
                return .secret(Secret(text, source: .inline))
            }
            return .plain(text)
        }
        return .secret(try secret(value))
    }

    static func looksSecret(_ property: String) -> Bool {
        let lowered = property.lowercased()
        return ["password", "secret", "token", "ssl.key.pem", "sasl.oauthbearer.config", "sasl.jaas.config"].contains { lowered.contains($0) }
    }

    /// `{ env: NAME }` or `{ file: PATH }`, resolved now. Inline values are refused: the
    /// agent's own credentials must not sit in a file that gets copied around.
    func secret(_ value: YAMLValue) throws(ConfigurationError) -> Secret {
        if value.isScalar {
            throw value.error(
                .invalidValue, "secrets may not be written inline",
                fix: "write { env: VARIABLE } or { file: /etc/switchback/secret } and put the value there")
        }
        let fields = try value.mapping(allowed: ["env", "file"], example: "{ env: VARIABLE } or { file: PATH }")
        switch (fields["env"], fields["file"]) {
        case (let env?, nil):
            return try secrets.resolve(.environment(try env.string(example: "VARIABLE")), inline: nil, keyPath: value.path, line: value.line)
        case (nil, let file?):
            return try secrets.resolve(.file(try file.string(example: "/etc/switchback/secret")), inline: nil, keyPath: value.path, line: value.line)
        case (nil, nil):
            throw value.error(.missingKey, "names neither env nor file", fix: "write { env: VARIABLE } or { file: PATH }")
        case (.some, .some):
            throw value.error(.invalidValue, "names both env and file", fix: "keep one of them")
        }
    }

    func parseWitnesses(_ value: YAMLValue, sites: [SiteSettings], tls: Bool) throws(ConfigurationError) -> [WitnessSettings] {
        if case .sequence = value.node {
            throw value.error(
                .wrongType, "expected a mapping of witness names to agents",
                fix: "name each witness: witnesses: { witness: { agent: \"https://witness:7070\" } }")
        }
        var result: [WitnessSettings] = []
        for (key, entry) in try value.mapping(allowed: nil, example: "{ witness: { agent: \"https://witness:7070\" } }").entries {
            let name = try siteName(YAMLValue(node: .scalar(.init(key)), path: entry.path))
            if sites.contains(where: { $0.name == name }) {
                throw entry.error(.invalidValue, "'\(name)' is also a site", fix: "give the witness a name of its own")
            }
            let fields = try entry.mapping(allowed: ["agent"], example: "{ agent: \"https://witness:7070\" }")
            result.append(WitnessSettings(name: name, agentURL: try agentURL(try fields.required("agent", example: "\"https://witness:7070\""), tls: tls)))
        }
        return result
    }
}

extension Substring {
    fileprivate func trimmingPrefixSpaces() -> Substring {
        var slice = self
        while slice.first == " " { slice = slice.dropFirst() }
        return slice
    }
}
