import AsyncHTTPClient
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import SwitchbackConfiguration

/// The agent's TLS (`tls:`): the server side of its API and the client side of its calls to the
/// other agents, built and checked once at start.
///
/// The server speaks TLS 1.2 or later only. With `client_auth: required` it demands a client
/// certificate issued by `ca` (chain checked, not the host name: clients have no fixed name).
/// The client trusts only `ca`, checks the peer's host name against its certificate, and
/// presents the agent's own certificate when a server asks for one.
public struct AgentTLS: Sendable, CustomStringConvertible {
    let server: TLSConfiguration
    let client: TLSConfiguration
    /// What the startup log says: paths and mode, never the key.
    public let description: String

    /// Parses the certificates and the key and checks that they belong together.
    /// - Throws: ``ConfigurationError`` naming the `tls.*` key, the file and the fix; the key's
    ///   text never appears in it.
    public init(_ settings: TLSSettings) throws(ConfigurationError) {
        let chain = try Self.certificates(settings.certificatePEM, key: "tls.certificate", path: settings.certificatePath)
        let trust = try Self.certificates(settings.caPEM, key: "tls.ca", path: settings.caPath)
        let keySource = "the private key from \(settings.privateKey.source)"
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(settings.privateKey.revealed().utf8), format: .pem)
        } catch {
            throw ConfigurationError(
                .invalidValue, keyPath: "tls.private_key", problem: "\(keySource) is not a usable RSA or EC private key",
                fix: "give the certificate's unencrypted private key in PEM format (openssl pkey -in KEY -out KEY.pem)")
        }

        var server = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        server.minimumTLSVersion = .tlsv12
        if settings.clientAuthentication == .required {
            server.certificateVerification = .noHostnameVerification
            server.trustRoots = .certificates(trust)
        }
        // BoringSSL checks the key against the certificate's public key when both are loaded.
        do {
            _ = try NIOSSLContext(configuration: server)
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw ConfigurationError(
                .invalidValue, keyPath: "tls.private_key",
                problem: "\(keySource) does not belong to the certificate in \(settings.certificatePath)",
                fix: "give the key the certificate was issued for (openssl x509 -noout -pubkey -in CERT and openssl pkey -pubout -in KEY print the same key)")
        } catch {
            throw ConfigurationError(
                .invalidValue, keyPath: "tls.certificate", problem: "TLS cannot be set up with \(settings.certificatePath): \(error)",
                fix: "give a PEM certificate chain (leaf first) and its private key")
        }

        var client = TLSConfiguration.makeClientConfiguration()
        client.minimumTLSVersion = .tlsv12
        client.certificateVerification = .fullVerification
        client.trustRoots = .certificates(trust)
        client.certificateChain = chain.map { .certificate($0) }
        client.privateKey = .privateKey(key)
        self.server = server
        self.client = client
        self.description =
            "on (certificate \(settings.certificatePath), ca \(settings.caPath), client_auth \(settings.clientAuthentication.rawValue))"
    }

    /// An `HTTPClient` configuration for calling other agents: trusts `ca`, checks host names.
    public func httpClientConfiguration() -> HTTPClient.Configuration {
        HTTPClient.Configuration(tlsConfiguration: client)
    }

    /// The configuration of the client that sends peer messages, TLS or not: pooled connections
    /// are given up well before the peers' `http.idle_timeout` (default 10 s) closes them, so a
    /// message is rarely sent on a connection the server is closing.
    static func peerClientConfiguration(_ tls: AgentTLS?) -> HTTPClient.Configuration {
        var configuration = tls?.httpClientConfiguration() ?? HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(4))
        return configuration
    }

    /// The listener's channel for the agent's `Application`: HTTP/1.1 over TLS with `tls`,
    /// plain HTTP/1.1 without. A connection with no traffic for `idleTimeout` is closed —
    /// before its TLS handshake is done, before its request head or between requests — so
    /// sockets that are opened and left idle cannot hold the listener's descriptors.
    static func listener(_ tls: AgentTLS?, idleTimeout: Duration) throws(AgentError) -> HTTPServerBuilder {
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .nanoseconds(idleTimeout.nanoseconds)))
        guard let tls else { return http1 }
        do {
            return try .tls(http1, tlsConfiguration: tls.server)
        } catch {
            throw AgentError("the agent cannot start: TLS cannot be set up for the listener: \(error)")
        }
    }

    static func certificates(_ pem: String, key: String, path: String) throws(ConfigurationError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
        } catch {
            throw ConfigurationError(
                .invalidValue, keyPath: key, problem: "\(path) holds a certificate that cannot be parsed (\(error))",
                fix: "give X.509 certificates in PEM format (openssl x509 -in FILE -noout -text must show them)")
        }
        guard !certificates.isEmpty else {
            throw ConfigurationError(
                .invalidValue, keyPath: key, problem: "\(path) holds no certificate", fix: "give X.509 certificates in PEM format")
        }
        return certificates
    }
}
