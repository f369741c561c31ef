import AsyncHTTPClient
import Foundation
import NIOSSL
import SwitchbackConfiguration

/// How an operator command reaches an agent over HTTPS: the CA that issued the agents'
/// certificates, and a client certificate for agents with `client_auth: required`.
///
/// Host names are always checked: `--agent https://agent-a:7070` must match a name in the
/// agent's certificate.
public struct OperatorTLS: Sendable {
    let configuration: TLSConfiguration

    /// - Parameters:
    ///   - caFile: PEM bundle to trust (`--ca`); `nil` trusts the system's roots.
    ///   - certificateFile: PEM certificate chain to present (`--cert`); needs `privateKey`.
    ///   - privateKey: the certificate's PEM key (`--key`, or `tls.private_key` of `--config`).
    /// - Throws: ``OperatorClientError`` naming the option and the file.
    public init(caFile: String?, certificateFile: String?, privateKey: Secret?) throws(OperatorClientError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile {
            configuration.trustRoots = .certificates(try Self.certificates(caFile, option: "--ca"))
        }
        switch (certificateFile, privateKey) {
        case (nil, nil):
            break
        case (let certificateFile?, let privateKey?):
            let chain = try Self.certificates(certificateFile, option: "--cert").map { NIOSSLCertificateSource.certificate($0) }
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(bytes: Array(privateKey.revealed().utf8), format: .pem)
            } catch {
                throw OperatorClientError(message: "--key: the private key from \(privateKey.source) is not a PEM RSA or EC key; give the unencrypted PEM key of --cert")
            }
            // Loading the pair into a context checks that the key belongs to the certificate,
            // so a wrong --key fails here rather than as a refused handshake.
            do {
                _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw OperatorClientError(message: "--key: the private key from \(privateKey.source) does not belong to the certificate in \(certificateFile); give the key --cert was issued for")
            }
            configuration.certificateChain = chain
            configuration.privateKey = .privateKey(key)
        case (nil, .some):
            throw OperatorClientError(message: "--key needs --cert: give the client certificate (PEM) the key belongs to")
        case (.some, nil):
            throw OperatorClientError(message: "--cert needs --key: give the certificate's private key (PEM)")
        }
        self.configuration = configuration
    }

    /// An `HTTPClient` configuration with this trust and identity.
    ///
    /// Failed connections are not retried: a one-shot command should report a refused
    /// certificate at once, not retry the handshake until the connect timeout.
    public func httpClientConfiguration() -> HTTPClient.Configuration {
        var client = HTTPClient.Configuration(tlsConfiguration: configuration)
        client.connectionPool.retryConnectionEstablishment = false
        return client
    }

    static func certificates(_ path: String, option: String) throws(OperatorClientError) -> [NIOSSLCertificate] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw OperatorClientError(message: "\(option) \(path): cannot read it (\((error as NSError).localizedDescription)); give a readable PEM file")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw OperatorClientError(message: "\(option) \(path): not PEM certificates (\(error)); give the PEM file (-----BEGIN CERTIFICATE-----)")
        }
        guard !certificates.isEmpty else {
            throw OperatorClientError(message: "\(option) \(path): holds no certificate; give the PEM file (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }
}
