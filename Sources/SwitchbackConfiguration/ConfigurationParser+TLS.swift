import Foundation

/// `tls:` and the agent URLs' schemes that must agree with it.
extension ConfigurationParser {
    static let tlsExample =
        "{ certificate: /etc/switchback/tls/agent.pem, private_key: { file: /etc/switchback/tls/agent.key }, ca: /etc/switchback/tls/ca.pem }"

    func parseTLS(_ value: YAMLValue) throws(ConfigurationError) -> TLSSettings {
        let fields = try value.mapping(allowed: ["certificate", "private_key", "ca", "client_auth"], example: Self.tlsExample)

        let certificateValue = try fields.required("certificate", example: "/etc/switchback/tls/agent.pem")
        let (certificatePath, certificatePEM) = try certificateFile(certificateValue, what: "this agent's certificate (then its intermediates)")

        let keyValue = try fields.required("private_key", example: "{ file: /etc/switchback/tls/agent.key }")
        let privateKey = try privateKey(keyValue)
        try checkPrivateKey(privateKey, keyValue)

        guard let caValue = fields["ca"] else {
            throw ConfigurationError(
                .missingKey, keyPath: value.path.isEmpty ? "ca" : "\(value.path).ca",
                problem: "is required: with tls every agent URL is https:// and the other agents' certificates are verified against it",
                fix: "add ca: /etc/switchback/tls/ca.pem, the PEM bundle of the CA that issued the agents' certificates", line: value.line)
        }
        let (caPath, caPEM) = try certificateFile(caValue, what: "the CA certificates that issued the agents' certificates")

        let clientAuthentication = try fields["client_auth"]?.choice([
            ("none", TLSSettings.ClientAuthentication.none), ("required", TLSSettings.ClientAuthentication.required),
        ]) ?? .none
        return TLSSettings(
            certificatePath: certificatePath, certificatePEM: certificatePEM, privateKey: privateKey, caPath: caPath, caPEM: caPEM,
            clientAuthentication: clientAuthentication)
    }

    /// `tls.private_key`: a path, `{ file: PATH }` or `{ env: NAME }`, resolved now.
    func privateKey(_ value: YAMLValue) throws(ConfigurationError) -> Secret {
        guard value.isScalar else { return try secret(value) }
        // A plain path is the usual way to name a key file; the key itself is never inline.
        let path = try value.string(example: "/etc/switchback/tls/agent.key")
        return try secrets.resolve(.file(path), inline: nil, keyPath: value.path, line: value.line)
    }

    /// Reads a PEM file of certificates named by `value`: its path and its text.
    private func certificateFile(_ value: YAMLValue, what: String) throws(ConfigurationError) -> (String, String) {
        let path = try value.string(example: "/etc/switchback/tls/agent.pem")
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw value.error(
                .unreadable, "cannot read \(path) (\((error as NSError).localizedDescription))",
                fix: "give the PEM file with \(what), readable by the agent's user")
        }
        let blocks: PEMBlocks
        do {
            blocks = try PEMBlocks(text: text)
        } catch {
            throw value.error(.invalidValue, "\(path) is not valid PEM (\(Self.describe(error)))", fix: "give the PEM file with \(what)")
        }
        guard blocks.count(of: "CERTIFICATE") > 0 else {
            let found = blocks.labels.isEmpty ? "no PEM block" : "only \(blocks.labels.joined(separator: ", "))"
            throw value.error(
                .invalidValue, "\(path) holds no certificate (\(found))",
                fix: "give the PEM file with \(what), each starting -----BEGIN CERTIFICATE----- (convert DER with openssl x509 -inform der -in FILE -out FILE.pem)")
        }
        return (path, text)
    }

    /// The key's shape; its value never appears in a message.
    private func checkPrivateKey(_ key: Secret, _ value: YAMLValue) throws(ConfigurationError) {
        let from = "the private key from \(key.source)"
        let blocks: PEMBlocks
        do {
            blocks = try PEMBlocks(text: key.revealed())
        } catch {
            throw value.error(.invalidValue, "\(from) is not valid PEM (\(Self.describe(error)))", fix: "give the certificate's private key in PEM format")
        }
        if blocks.count(of: "ENCRYPTED PRIVATE KEY") > 0 || key.revealed().contains("Proc-Type: 4,ENCRYPTED") {
            throw value.error(
                .invalidValue, "\(from) is encrypted with a passphrase",
                fix: "store it as an unencrypted PEM key with tight permissions (openssl pkey -in KEY -out KEY.pem; chmod 0400 KEY.pem)")
        }
        guard blocks.labels.contains(where: { ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"].contains($0) }) else {
            let found = blocks.labels.isEmpty ? "no PEM block" : "only \(blocks.labels.joined(separator: ", "))"
            throw value.error(
                .invalidValue, "\(from) holds no private key (\(found))",
                fix: "give the certificate's private key in PEM format (-----BEGIN PRIVATE KEY-----)")
        }
    }

    private static func describe(_ problem: PEMBlocks.Problem) -> String {
        switch problem {
        case .unterminated(let label): "-----BEGIN \(label)----- has no END line"
        case .notBase64(let label): "the \(label) block is not base64"
        }
    }

    /// An agent URL whose scheme agrees with `tls`: all https:// with it, all http:// without.
    func agentURL(_ value: YAMLValue, tls: Bool) throws(ConfigurationError) -> String {
        let url = try agentURL(value)
        let secure = url.lowercased().hasPrefix("https://")
        if tls && !secure {
            let suggestion = "https://" + url.drop { $0 != ":" }.dropFirst("://".count)
            throw value.error(
                .invalidValue, "\"\(url)\" is plain HTTP but tls is set, so every agent serves HTTPS only",
                fix: "write \(suggestion) (with tls every agent URL is https://)")
        }
        if !tls && secure {
            let suggestion = "http://" + url.drop { $0 != ":" }.dropFirst("://".count)
            throw value.error(
                .invalidValue, "\"\(url)\" is HTTPS but there is no tls section (its ca verifies the agents' certificates)",
                fix: "add tls: \(Self.tlsExample) to every agent, or write \(suggestion)")
        }
        return url
    }

    /// The warning for agents whose URLs share a host: with `client_auth: required` a peer's
    /// certificate is bound to the agent whose URL host it names, so such agents cannot be told
    /// apart by their certificates.
    static func sharedHostWarning(sites: [SiteSettings], witnesses: [WitnessSettings]) -> String? {
        var agents: [String: [String]] = [:]
        for (name, url) in sites.map({ ($0.name.rawValue, $0.agentURL) }) + witnesses.map({ ($0.name.rawValue, $0.agentURL) }) {
            if let host = URL(string: url)?.host?.lowercased() { agents[host, default: []].append(name) }
        }
        let shared = agents.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }
        guard !shared.isEmpty else { return nil }
        let list = shared.map { "\($0.value.joined(separator: ", ")) at \($0.key)" }.joined(separator: "; ")
        return "agents share a host in their URLs (\(list)): with tls.client_auth: required a certificate cannot tell them apart, "
            + "so one of them could speak for the other; give each agent a host name of its own in its certificate and URL"
    }
}
