import Foundation
import SwitchbackConfiguration
import TestSupport
import Testing

@Suite("Listener security: operator token length, plaintext warning, HTTP limits")
struct ListenerSecurityConfigurationTests {
    @Test("an operator token shorter than 16 bytes is refused, naming auth.operator_token, its length and the fix")
    func shortOperatorToken() throws {
        let error = try #require(failure(minimal, environment: testEnvironment.merging(["SWITCHBACK_TOKEN": "hunter2"]) { $1 }))
        #expect(error.code == .invalidValue)
        #expect(error.keyPath == "auth.operator_token")
        #expect(error.problem.contains("7 bytes"), "\(error)")
        #expect(error.problem.contains("at least 16"), "\(error)")
        #expect(error.problem.contains("env SWITCHBACK_TOKEN"), "\(error)")
        #expect(error.fix.contains("openssl rand"), "\(error)")
        #expect(!error.description.contains("hunter2"), "the token leaked: \(error)")
        // Exactly 16 bytes is enough.
        let config = try parse(minimal, environment: testEnvironment.merging(["SWITCHBACK_TOKEN": "0123456789abcdef"]) { $1 })
        #expect(config.auth.operatorToken.revealed().utf8.count == AuthSettings.minimumOperatorTokenBytes)
    }

    @Test("listening beyond loopback without tls warns; loopback, or tls, does not")
    func plaintextWarning() async throws {
        let open = try parse(minimal + "listen: 0.0.0.0:7070\n")
        #expect(open.warnings.contains { $0.contains("listen: 0.0.0.0:7070") && $0.contains("no tls section") }, "\(open.warnings)")
        let lan = try parse(minimal + "listen: 10.1.2.3:7070\n")
        #expect(lan.warnings.contains { $0.contains("no tls section") })
        for loopback in ["127.0.0.1:7070", "localhost:7070", "\"[::1]:7070\""] {
            let config = try parse(minimal + "listen: \(loopback)\n")
            #expect(!config.warnings.contains { $0.contains("no tls section") }, "\(loopback): \(config.warnings)")
        }
        try await withCertificates { certificates, _ in
            let secure = try parse(tlsYAML(certificates) + "listen: 0.0.0.0:7070\n")
            #expect(!secure.warnings.contains { $0.contains("no tls section") }, "\(secure.warnings)")
        }
    }

    @Test("with client_auth required, agents sharing a URL host are warned about (certificates cannot tell them apart)")
    func sharedHostWarning() async throws {
        try await withCertificates { certificates, _ in
            let base = "  certificate: \(certificates.certificatePath("dc-a"))\n  private_key: \(certificates.keyPath("dc-a"))\n  ca: \(certificates.caPath)"
            let mutual = try parse(tlsYAML(certificates, tls: base + "\n  client_auth: required"))
            #expect(mutual.warnings.contains { $0.contains("dc-a, dc-b, witness at 127.0.0.1") }, "\(mutual.warnings)")
            let oneWay = try parse(tlsYAML(certificates, tls: base))
            #expect(!oneWay.warnings.contains { $0.contains("share a host") })
        }
    }

    @Test("http: limits default to 512 connections, 10s idle, 256 long-polls; bad values name the key")
    func httpLimits() throws {
        #expect(try parse(minimal).http == .defaults)
        let custom = try parse(minimal + "http: { max_connections: 64, idle_timeout: 2s, max_long_polls: 8 }\n")
        #expect(custom.http == HTTPSettings(maxConnections: 64, idleTimeout: .seconds(2), maxLongPolls: 8))
        let zero = try #require(failure(minimal + "http: { max_connections: 0 }\n"))
        #expect(zero.keyPath == "http.max_connections")
        #expect(zero.problem.contains("\"0\""))
        let idle = try #require(failure(minimal + "http: { idle_timeout: soon }\n"))
        #expect(idle.keyPath == "http.idle_timeout")
        let polls = try #require(failure(minimal + "http: { max_connections: 10, max_long_polls: 10 }\n"))
        #expect(polls.keyPath == "http.max_long_polls")
        #expect(polls.fix.contains("below max_connections"))
        let typo = try #require(failure(minimal + "http: { max_conections: 10 }\n"))
        #expect(typo.code == .unknownKey)
        #expect(typo.fix.contains("max_connections"))
    }
}
