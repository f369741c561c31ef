import Foundation
import SwitchbackConfiguration
import TestSupport
import Testing

/// A valid configuration with `tls:` (every agent URL https://); `tls` replaces the section's body.
func tlsYAML(_ certificates: TestCertificates, tls: String? = nil, scheme: String = "https", witnessScheme: String? = nil) -> String {
    let section = tls ?? """
          certificate: \(certificates.certificatePath("dc-a"))
          private_key: \(certificates.keyPath("dc-a"))
          ca: \(certificates.caPath)
        """
    return """
        site: dc-a
        sites:
          dc-a: { bootstrap: "127.0.0.1:9092", agent: "\(scheme)://127.0.0.1:7071" }
          dc-b: { bootstrap: "127.0.0.1:9093", agent: "\(scheme)://127.0.0.1:7072" }
        witnesses:
          witness: { agent: "\(witnessScheme ?? scheme)://127.0.0.1:7073" }
        auth:
          peer_secret: { env: SWITCHBACK_PEER_SECRET }
          operator_token: { env: SWITCHBACK_TOKEN }
        tls:
        \(section)

        """
}

/// Runs `body` with a fresh CA and a certificate for dc-a, in a temporary directory.
func withCertificates(_ body: (TestCertificates, URL) async throws -> Void) async throws {
    try await withTemporaryDirectory(prefix: "tls-config") { directory in
        let certificates = try await TestCertificates.issue(in: directory.appendingPathComponent("pki"), names: ["dc-a"])
        try await body(certificates, directory)
    }
}

@Suite("TLS configuration")
struct TLSConfigurationTests {
    @Test("a tls section loads: files read, key kept secret, client_auth defaults to none, https peers")
    func loads() async throws {
        try await withCertificates { certificates, _ in
            let config = try parse(tlsYAML(certificates))
            let tls = try #require(config.tls)
            #expect(tls.certificatePath == certificates.certificatePath("dc-a"))
            #expect(tls.certificatePEM.contains("-----BEGIN CERTIFICATE-----"))
            #expect(tls.caPath == certificates.caPath)
            #expect(tls.caPEM.contains("-----BEGIN CERTIFICATE-----"))
            #expect(tls.clientAuthentication == .none)
            #expect(tls.privateKey.revealed().contains("PRIVATE KEY-----"))
            #expect(tls.privateKey.source == .file(certificates.keyPath("dc-a")))
            // The key never shows through interpolation.
            #expect("\(tls.privateKey)" == "***")
            #expect(!String(reflecting: tls.privateKey).contains("PRIVATE KEY"))
            #expect(config.peerURLs["dc-b"] == "https://127.0.0.1:7072")
            #expect(config.warnings.isEmpty)

            let required = try parse(tlsYAML(certificates, tls: """
                  certificate: \(certificates.certificatePath("dc-a"))
                  private_key: { file: \(certificates.keyPath("dc-a")) }
                  ca: \(certificates.caPath)
                  client_auth: required
                """))
            #expect(required.tls?.clientAuthentication == .required)
        }
    }

    @Test("the private key may come from the environment; an unset variable names the key")
    func keyFromEnvironment() async throws {
        try await withCertificates { certificates, _ in
            let keyPEM = try String(contentsOfFile: certificates.keyPath("dc-a"), encoding: .utf8)
            let yaml = tlsYAML(certificates, tls: """
                  certificate: \(certificates.certificatePath("dc-a"))
                  private_key: { env: TLS_KEY }
                  ca: \(certificates.caPath)
                """)
            var environment = testEnvironment
            environment["TLS_KEY"] = keyPEM
            let config = try parse(yaml, environment: environment)
            #expect(config.tls?.privateKey.source == .environment("TLS_KEY"))
            #expect(config.tls?.privateKey.revealed() == keyPEM)

            let error = try #require(failure(yaml))
            #expect(error.code == .unresolvedSecret)
            #expect(error.keyPath == "tls.private_key")
            #expect(error.problem.contains("TLS_KEY"))
            #expect(error.fix.contains("export TLS_KEY"))
        }
    }

    @Test("an http:// agent URL next to a TLS listener is refused, naming the key, the URL and the https:// fix")
    func httpPeerWithTLS() async throws {
        try await withCertificates { certificates, _ in
            let error = try #require(failure(tlsYAML(certificates, witnessScheme: "http")))
            #expect(error.code == .invalidValue)
            #expect(error.keyPath == "witnesses.witness.agent")
            #expect(error.problem.contains("\"http://127.0.0.1:7073\""))
            #expect(error.fix.contains("https://127.0.0.1:7073"))
            #expect(error.line != nil)
        }
    }

    @Test("an https:// agent URL without a tls section is refused: nothing to verify the certificate with")
    func httpsPeerWithoutTLS() {
        let yaml = minimal.replacingOccurrences(of: "agent: \"http://127.0.0.1:7072\"", with: "agent: \"https://127.0.0.1:7072\"")
        let error = failure(yaml)
        #expect(error?.keyPath == "sites.dc-b.agent")
        #expect(error?.problem.contains("\"https://127.0.0.1:7072\"") == true)
        #expect(error?.problem.contains("no tls section") == true)
        #expect(error?.fix.contains("ca:") == true)
        #expect(error?.fix.contains("http://127.0.0.1:7072") == true)
    }

    @Test("https peers with tls but no ca are refused, naming tls.ca and what to put there")
    func missingCA() async throws {
        try await withCertificates { certificates, _ in
            let error = try #require(failure(tlsYAML(certificates, tls: """
                  certificate: \(certificates.certificatePath("dc-a"))
                  private_key: \(certificates.keyPath("dc-a"))
                """)))
            #expect(error.code == .missingKey)
            #expect(error.keyPath == "tls.ca")
            #expect(error.problem.contains("verified against it"))
            #expect(error.fix.contains("ca: /etc/switchback/tls/ca.pem"))
        }
    }

    @Test("missing files are refused, each naming its key, the path and the fix")
    func missingFiles() async throws {
        try await withCertificates { certificates, directory in
            let absent = directory.appendingPathComponent("absent.pem").path
            let cases: [(key: String, tls: String)] = [
                ("tls.certificate", "  certificate: \(absent)\n  private_key: \(certificates.keyPath("dc-a"))\n  ca: \(certificates.caPath)"),
                ("tls.private_key", "  certificate: \(certificates.certificatePath("dc-a"))\n  private_key: \(absent)\n  ca: \(certificates.caPath)"),
                ("tls.ca", "  certificate: \(certificates.certificatePath("dc-a"))\n  private_key: \(certificates.keyPath("dc-a"))\n  ca: \(absent)"),
            ]
            for (key, tls) in cases {
                let error = try #require(failure(tlsYAML(certificates, tls: tls)), "\(key)")
                #expect(error.keyPath == key)
                #expect(error.problem.contains(absent), "\(error)")
                #expect(error.fix.contains("readable by the agent's user"), "\(error)")
                #expect(error.line != nil)
            }
            let missingCertificate = try #require(failure(tlsYAML(certificates, tls: "  private_key: \(certificates.keyPath("dc-a"))\n  ca: \(certificates.caPath)")))
            #expect(missingCertificate.code == .missingKey)
            #expect(missingCertificate.keyPath == "tls.certificate")
        }
    }

    @Test("files that are not the PEM they should be are refused, naming the key and the file, never the key's text")
    func unreadablePEM() async throws {
        try await withCertificates { certificates, directory in
            func file(_ name: String, _ text: String) throws -> String {
                let path = directory.appendingPathComponent(name).path
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let keyPEM = try String(contentsOfFile: certificates.keyPath("dc-a"), encoding: .utf8)
            let certificatePEM = try String(contentsOfFile: certificates.certificatePath("dc-a"), encoding: .utf8)
            let garbage = try file("garbage.pem", "this is not a certificate\n")
            let truncated = try file("truncated.pem", String(certificatePEM.prefix(200)))
            let notBase64 = try file("bad-base64.pem", "-----BEGIN CERTIFICATE-----\n@@@ not base64 @@@\n-----END CERTIFICATE-----\n")
            let keyInsteadOfCertificate = try file("key-as-cert.pem", keyPEM)
            let certificateInsteadOfKey = try file("cert-as-key.pem", certificatePEM)
            let encryptedKey = try file("encrypted.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkq\n-----END ENCRYPTED PRIVATE KEY-----\n")
            let cert = certificates.certificatePath("dc-a")
            let key = certificates.keyPath("dc-a")
            let ca = certificates.caPath
            let cases: [(key: String, value: String, problem: String, tls: String)] = [
                ("tls.certificate", garbage, "holds no certificate (no PEM block)", "  certificate: \(garbage)\n  private_key: \(key)\n  ca: \(ca)"),
                ("tls.certificate", truncated, "has no END line", "  certificate: \(truncated)\n  private_key: \(key)\n  ca: \(ca)"),
                ("tls.certificate", notBase64, "is not base64", "  certificate: \(notBase64)\n  private_key: \(key)\n  ca: \(ca)"),
                ("tls.certificate", keyInsteadOfCertificate, "holds no certificate (only PRIVATE KEY)", "  certificate: \(keyInsteadOfCertificate)\n  private_key: \(key)\n  ca: \(ca)"),
                ("tls.ca", garbage, "holds no certificate", "  certificate: \(cert)\n  private_key: \(key)\n  ca: \(garbage)"),
                ("tls.private_key", certificateInsteadOfKey, "holds no private key (only CERTIFICATE)", "  certificate: \(cert)\n  private_key: \(certificateInsteadOfKey)\n  ca: \(ca)"),
                ("tls.private_key", garbage, "holds no private key (no PEM block)", "  certificate: \(cert)\n  private_key: { file: \(garbage) }\n  ca: \(ca)"),
                ("tls.private_key", encryptedKey, "is encrypted", "  certificate: \(cert)\n  private_key: \(encryptedKey)\n  ca: \(ca)"),
            ]
            for (keyPath, value, problem, tls) in cases {
                let error = try #require(failure(tlsYAML(certificates, tls: tls)), "\(keyPath) = \(value)")
                #expect(error.code == .invalidValue, "\(error)")
                #expect(error.keyPath == keyPath, "\(error)")
                #expect(error.problem.contains(value), "\(error)")
                #expect(error.problem.contains(problem), "\(error)")
                #expect(error.fix.contains("PEM"), "\(error)")
                #expect(!error.description.contains(keyPEM.split(separator: "\n")[1]), "the key's text leaked: \(error)")
            }
        }
    }

    @Test("client_auth takes none or required; unknown tls keys get a suggestion")
    func clientAuthAndKeys() async throws {
        try await withCertificates { certificates, _ in
            let base = "  certificate: \(certificates.certificatePath("dc-a"))\n  private_key: \(certificates.keyPath("dc-a"))\n  ca: \(certificates.caPath)"
            let badMode = try #require(failure(tlsYAML(certificates, tls: base + "\n  client_auth: sometimes")))
            #expect(badMode.keyPath == "tls.client_auth")
            #expect(badMode.problem.contains("\"sometimes\""))
            #expect(badMode.fix.contains("none, required"))

            let typo = try #require(failure(tlsYAML(certificates, tls: base + "\n  client_auht: required")))
            #expect(typo.code == .unknownKey)
            #expect(typo.keyPath == "tls.client_auht")
            #expect(typo.fix.contains("did you mean 'client_auth'?"))

            let inlineKey = try #require(failure(tlsYAML(certificates, tls: "  certificate: \(certificates.certificatePath("dc-a"))\n  private_key: { value: x }\n  ca: \(certificates.caPath)")))
            #expect(inlineKey.keyPath == "tls.private_key.value")
            #expect(inlineKey.code == .unknownKey)
        }
    }

    @Test("operator commands read only the tls section of --config: no other secret is needed, the key only with client_auth required")
    func operatorSettings() async throws {
        try await withCertificates { certificates, directory in
            let file = directory.appendingPathComponent("agent.yaml").path
            let none = SecretResolver(environment: [:])
            try tlsYAML(certificates).write(toFile: file, atomically: true, encoding: .utf8)
            let plain = try #require(try OperatorTLSSettings.load(path: file, secrets: none))
            #expect(plain.caPath == certificates.caPath)
            #expect(plain.certificatePath == nil && plain.privateKey == nil)

            try tlsYAML(certificates, tls: """
                  certificate: \(certificates.certificatePath("dc-a"))
                  private_key: { file: \(certificates.keyPath("dc-a")) }
                  ca: \(certificates.caPath)
                  client_auth: required
                """).write(toFile: file, atomically: true, encoding: .utf8)
            let mutual = try #require(try OperatorTLSSettings.load(path: file, secrets: none))
            #expect(mutual.certificatePath == certificates.certificatePath("dc-a"))
            #expect(mutual.privateKey?.source == .file(certificates.keyPath("dc-a")))

            try minimal.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try OperatorTLSSettings.load(path: file, secrets: none) == nil)

            try tlsYAML(certificates, tls: "  certificate: x\n  private_key: y").write(toFile: file, atomically: true, encoding: .utf8)
            do throws(ConfigurationError) {
                _ = try OperatorTLSSettings.load(path: file, secrets: none)
                Issue.record("a tls section without ca was accepted")
            } catch {
                #expect(error.keyPath == "tls.ca")
                #expect(error.code == .missingKey)
            }
        }
    }
}
