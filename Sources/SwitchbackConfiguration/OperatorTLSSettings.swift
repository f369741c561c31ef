import Foundation
import Yams

/// What an operator command (`switchback status --config FILE`) takes from an agent's
/// configuration to call it over HTTPS: the CA, and the agent's certificate and key when the
/// agents require client certificates.
///
/// Only `tls:` is read. The rest of the file is not validated and its secrets are not
/// resolved, so an operator needs neither the peer secret nor the Kafka passwords; the private
/// key is read only with `client_auth: required`.
public struct OperatorTLSSettings: Sendable {
    /// `tls.ca`.
    public var caPath: String
    /// `tls.certificate`, with `client_auth: required` only.
    public var certificatePath: String?
    /// `tls.private_key`, with `client_auth: required` only.
    public var privateKey: Secret?

    /// The `tls:` section of the configuration file at `path`, or `nil` when it has none.
    /// - Throws: ``ConfigurationError`` naming the key, the bad value and the fix.
    public static func load(path: String, secrets: SecretResolver = SecretResolver()) throws(ConfigurationError) -> OperatorTLSSettings? {
        let text = try AgentConfiguration.readText(path, fix: "check the path given to --config, or pass --ca instead")
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else { return nil }
            root = composed
        } catch {
            throw ConfigurationError(.unreadable, keyPath: "", problem: "not valid YAML: \(error)", fix: "fix the YAML syntax at the position shown")
        }
        let top = try YAMLValue(node: root, path: "").mapping(allowed: nil, example: "site: dc-a, sites: {...}, tls: {...}")
        guard let tls = top["tls"] else { return nil }
        let parser = ConfigurationParser(secrets: secrets)
        let fields = try tls.mapping(allowed: ["certificate", "private_key", "ca", "client_auth"], example: ConfigurationParser.tlsExample)
        let caPath = try fields.required("ca", example: "/etc/switchback/tls/ca.pem").string(example: "/etc/switchback/tls/ca.pem")
        let clientAuthentication = try fields["client_auth"]?.choice([
            ("none", TLSSettings.ClientAuthentication.none), ("required", TLSSettings.ClientAuthentication.required),
        ]) ?? .none
        guard clientAuthentication == .required else { return OperatorTLSSettings(caPath: caPath) }
        let certificatePath = try fields.required("certificate", example: "/etc/switchback/tls/agent.pem").string(example: "/etc/switchback/tls/agent.pem")
        let privateKey = try parser.privateKey(try fields.required("private_key", example: "{ file: /etc/switchback/tls/agent.key }"))
        return OperatorTLSSettings(caPath: caPath, certificatePath: certificatePath, privateKey: privateKey)
    }

    public init(caPath: String, certificatePath: String? = nil, privateKey: Secret? = nil) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.privateKey = privateKey
    }
}
