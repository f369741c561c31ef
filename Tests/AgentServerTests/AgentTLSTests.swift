import AgentServer
import AsyncHTTPClient
import Consensus
import Foundation
import InMemoryLogging
import Logging
import SwitchbackConfiguration
import TestSupport
import Testing

@Suite("Agents over TLS", .serialized, .timeLimit(.minutes(3)))
struct AgentTLSTests {
    @Test("three agents over HTTPS with mutual TLS elect, lease and fail over as over HTTP")
    func trioOverHTTPS() async throws {
        try await withLocalKafka(control: true) { brokerA in
            try await withLocalKafka(control: true) { brokerB in
                try await withTemporaryDirectory(prefix: "agent-tls-trio") { directory in
                    let pki = try await TestPKI.issue(in: directory.appendingPathComponent("certificates"))
                    let trio = try startTLSTrio(
                        brokerA: brokerA, brokerB: brokerB, directory: directory.appendingPathComponent("agents"), pki: pki.pki)
                    do {
                        try await withTLSClient(ca: pki.pki.caPath, identity: (pki.pki, "operator")) { client in
                            // dc-a's lease needs the peers' acknowledgements: peer messages cross mutual TLS.
                            let leased = await eventually(timeout: .seconds(60)) { await trio.active("dc-a", client: client)?.servingHere == true }
                            #expect(leased, "dc-a never got a lease over HTTPS")
                            guard leased else { return }
                            // Heartbeats from both peers arrive: each direction of every link crosses TLS.
                            let operatorClient = OperatorClient(baseURL: try #require(trio.urls["dc-a"]), token: operatorToken, client: client)
                            let bothReachable = await eventually {
                                let status = try? await operatorClient.status().decode(AgentStatusReport.self)
                                return status.map { Set($0.election.reachablePeers.map(\.rawValue)) } == ["dc-b", "witness"]
                            }
                            #expect(bothReachable, "dc-a does not hear both peers over HTTPS")

                            brokerA.faults.inject(.blackhole)
                            let failedOver = await eventually(timeout: .seconds(60)) {
                                guard let answer = await trio.active("dc-b", client: client) else { return false }
                                return answer.activeSite == "dc-b" && answer.servingHere
                            }
                            #expect(failedOver, "dc-b never became active over HTTPS")
                            #expect(await eventually { await trio.active("witness", client: client)?.activeSite == "dc-b" })
                            #expect(await eventually { await trio.active("dc-a", client: client)?.servingHere == false })
                        }
                    } catch {
                        await trio.stopAll()
                        throw error
                    }
                    await trio.stopAll()
                }
            }
        }
    }

    @Test("a TLS agent serves HTTPS only; clients that do not trust its CA are refused; the log says TLS is on, never the key")
    func httpsOnly() async throws {
        try await withTLSAgent(clientAuth: .none) { agent, base, pki, _, log in
            let port = try #require(agent.listeningPort)
            try await withTLSClient(ca: pki.pki.caPath) { client in
                let byAddress = try await http(client, .GET, base + "/healthz", timeout: .seconds(10))
                #expect(byAddress.status == 200)
                // The host name is checked: the certificate names 127.0.0.1 and localhost only.
                let byName = try await http(client, .GET, "https://localhost:\(port)/healthz", timeout: .seconds(10))
                #expect(byName.status == 200)
                await #expect(throws: (any Error).self) {
                    try await http(client, .GET, "http://127.0.0.1:\(port)/healthz", timeout: .seconds(10))
                }
            }
            // The system's roots, and a CA that issued a certificate of the same name, are not the agent's CA.
            try await withTLSClient(ca: nil) { client in
                await #expect(throws: (any Error).self) { try await http(client, .GET, base + "/healthz", timeout: .seconds(10)) }
            }
            try await withTLSClient(ca: pki.rogue.caPath) { client in
                let error = await #expect(throws: (any Error).self) { try await http(client, .GET, base + "/healthz", timeout: .seconds(10)) }
                #expect(String(describing: error).contains("CERTIFICATE_VERIFY_FAILED"), "\(String(describing: error))")
            }

            let listening = try #require(log.entries.first { $0.message.description == "agent API listening" })
            let tls = try #require(listening.metadata["tls"]?.description)
            #expect(tls.hasPrefix("on ("))
            #expect(tls.contains(pki.pki.certificatePath("dc-a")))
            #expect(tls.contains("client_auth none"))
            let key = try String(contentsOfFile: pki.pki.keyPath("dc-a"), encoding: .utf8)
            let keyLine = String(key.split(separator: "\n")[1])
            for entry in log.entries {
                #expect(!"\(entry.message) \(entry.metadata)".contains(keyLine), "the private key was logged")
            }
        }
    }

    @Test("host names are checked: a certificate from the trusted CA that does not name the agent's host is refused")
    func hostnameVerification() async throws {
        try await withTLSAgent(clientAuth: .none, certificateNames: "DNS:elsewhere.example") { agent, base, pki, _, _ in
            let port = try #require(agent.listeningPort)
            try await withTLSClient(ca: pki.pki.caPath) { client in
                // The chain is fine (same CA); only the name is wrong, and that is what fails.
                for url in [base + "/healthz", "https://localhost:\(port)/healthz"] {
                    let error = await #expect(throws: (any Error).self) { try await http(client, .GET, url, timeout: .seconds(10)) }
                    #expect(String(describing: error).lowercased().contains("hostname"), "\(url): \(String(describing: error))")
                }
            }
        }
    }

    @Test("client_auth required: no client certificate, or one from another CA, is refused; the CA's own passes")
    func clientAuthentication() async throws {
        try await withTLSAgent(clientAuth: .required) { _, base, pki, _, log in
            try await withTLSClient(ca: pki.pki.caPath, identity: (pki.pki, "operator")) { client in
                let answer = try await http(client, .GET, base + "/healthz", timeout: .seconds(10))
                #expect(answer.status == 200)
            }
            try await withTLSClient(ca: pki.pki.caPath) { client in
                await #expect(throws: (any Error).self) { try await http(client, .GET, base + "/healthz", timeout: .seconds(10)) }
            }
            // Same name (dc-b), another CA: a stranger posing as a peer.
            try await withTLSClient(ca: pki.pki.caPath, identity: (pki.rogue, "dc-b")) { client in
                await #expect(throws: (any Error).self) { try await http(client, .GET, base + "/healthz", timeout: .seconds(10)) }
                let request = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
                await #expect(throws: (any Error).self) {
                    try await http(client, .POST, base + "/v1/peer/message", headers: request.headers, body: request.body, timeout: .seconds(10))
                }
            }
            #expect(log.entries.contains { $0.metadata["tls"]?.description.contains("client_auth required") == true })
        }
    }

    @Test("HMAC stays required over TLS: an unsigned or wrongly signed peer message is refused, a signed one accepted")
    func hmacOverTLS() async throws {
        try await withTLSAgent(clientAuth: .required) { _, base, pki, _, _ in
            try await withTLSClient(ca: pki.pki.caPath, identity: (pki.pki, "dc-b")) { client in
                let body = Array(try JSONEncoder().encode(heartbeat(from: "dc-b")))
                let unsigned = try await http(
                    client, .POST, base + "/v1/peer/message", headers: [("Content-Type", "application/json")], body: body, timeout: .seconds(10))
                #expect(unsigned.status == 401)
                #expect(String(decoding: unsigned.body, as: UTF8.self).contains("missing or malformed authentication headers"))

                var forged = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
                forged.headers = forged.headers.map { $0.0 == PeerSignature.signatureHeader ? ($0.0, String(repeating: "0", count: 64)) : $0 }
                let refused = try await http(client, .POST, base + "/v1/peer/message", headers: forged.headers, body: forged.body, timeout: .seconds(10))
                #expect(refused.status == 401)

                let signed = try signedPeerRequest(heartbeat(from: "dc-b"), as: "dc-b")
                let accepted = try await http(client, .POST, base + "/v1/peer/message", headers: signed.headers, body: signed.body, timeout: .seconds(10))
                #expect(accepted.status == 202)
            }
        }
    }

    @Test("switchback status --ca against a TLS agent; without --ca it fails and says to pass one")
    func operatorCommand() async throws {
        try await withTLSAgent(clientAuth: .none) { _, base, pki, _, _ in
            let environment = ["SWITCHBACK_TOKEN": operatorToken]
            let trusted = try await runSwitchback(["status", "--agent", base, "--ca", pki.pki.caPath], environment: environment)
            #expect(trusted.status == 0, "\(trusted.errors)")
            #expect(trusted.output.contains("agent dc-a (member)"))
            #expect(trusted.output.contains("active site: dc-a in epoch 0"))

            let untrusted = try await runSwitchback(["status", "--agent", base], environment: environment)
            #expect(untrusted.status == 1)
            #expect(untrusted.errors.contains("pass --ca"), "\(untrusted.errors)")

            let stranger = try await runSwitchback(["status", "--agent", base, "--ca", pki.rogue.caPath], environment: environment)
            #expect(stranger.status == 1)

            let missing = try await runSwitchback(["status", "--agent", base, "--ca", "/nonexistent/ca.pem"], environment: environment)
            #expect(missing.status == 2)
            #expect(missing.errors.contains("--ca /nonexistent/ca.pem"), "\(missing.errors)")
        }
    }

    @Test("switchback status with client_auth required: --cert/--key, or --config reading the agent's tls section")
    func operatorCommandWithClientCertificate() async throws {
        try await withTLSAgent(clientAuth: .required) { _, base, pki, configFile, _ in
            let environment = ["SWITCHBACK_TOKEN": operatorToken]
            let withoutCertificate = try await runSwitchback(["status", "--agent", base, "--ca", pki.pki.caPath], environment: environment)
            #expect(withoutCertificate.status == 1)

            let withCertificate = try await runSwitchback(
                ["status", "--agent", base, "--ca", pki.pki.caPath, "--cert", pki.pki.certificatePath("operator"), "--key", pki.pki.keyPath("operator")],
                environment: environment)
            #expect(withCertificate.status == 0, "\(withCertificate.errors)")
            #expect(withCertificate.output.contains("agent dc-a (member)"))

            // --config needs none of the file's other secrets (PEER is not in the environment).
            let fromConfig = try await runSwitchback(["status", "--agent", base, "--config", configFile.path, "--json"], environment: environment)
            #expect(fromConfig.status == 0, "\(fromConfig.errors)")
            #expect(try decodeJSON(AgentStatusReport.self, Data(fromConfig.output.utf8)).agent == "dc-a")

            let mismatched = try await runSwitchback(
                ["status", "--agent", base, "--ca", pki.pki.caPath, "--cert", pki.pki.certificatePath("operator"), "--key", pki.pki.keyPath("dc-b")],
                environment: environment)
            #expect(mismatched.status == 2)
            #expect(mismatched.errors.contains("does not belong to the certificate"), "\(mismatched.errors)")
        }
    }
}

@Suite("TLS material checked at start")
struct AgentTLSMaterialTests {
    func settings(_ certificates: TestCertificates, certificate: String = "dc-a", key: String = "dc-a") throws -> TLSSettings {
        TLSSettings(
            certificatePath: certificates.certificatePath(certificate),
            certificatePEM: try String(contentsOfFile: certificates.certificatePath(certificate), encoding: .utf8),
            privateKey: try keySecret(certificates, key), caPath: certificates.caPath,
            caPEM: try String(contentsOfFile: certificates.caPath, encoding: .utf8), clientAuthentication: .required)
    }

    @Test("a key that does not match the certificate is refused, naming tls.private_key, the files and the fix")
    func mismatchedKey() async throws {
        try await withTemporaryDirectory(prefix: "tls-material") { directory in
            let certificates = try await TestCertificates.issue(in: directory, names: ["dc-a", "dc-b"])
            _ = try AgentTLS(try settings(certificates))
            let keyText = try String(contentsOfFile: certificates.keyPath("dc-b"), encoding: .utf8)
            let mismatched = try settings(certificates, key: "dc-b")
            do throws(ConfigurationError) {
                _ = try AgentTLS(mismatched)
                Issue.record("a key of another certificate was accepted")
            } catch {
                #expect(error.keyPath == "tls.private_key")
                #expect(error.problem.contains("file \(certificates.keyPath("dc-b"))"))
                #expect(error.problem.contains("does not belong to the certificate in \(certificates.certificatePath("dc-a"))"))
                #expect(error.fix.contains("openssl pkey -pubout"))
                #expect(!error.description.contains(String(keyText.split(separator: "\n")[1])))
            }
        }
    }

    @Test("PEM blocks that are not a certificate or a key inside are refused, naming the key and the file")
    func unparsableContent() async throws {
        try await withTemporaryDirectory(prefix: "tls-material") { directory in
            let certificates = try await TestCertificates.issue(in: directory, names: ["dc-a"])
            // Well-formed PEM (the configuration's check passes) around bytes that are no certificate.
            let bogus = "-----BEGIN CERTIFICATE-----\n\(Data("not a DER certificate at all".utf8).base64EncodedString())\n-----END CERTIFICATE-----\n"
            var badCertificate = try settings(certificates)
            badCertificate.certificatePEM = bogus
            do throws(ConfigurationError) { _ = try AgentTLS(badCertificate); Issue.record("a bogus certificate was accepted") } catch {
                #expect(error.keyPath == "tls.certificate")
                #expect(error.problem.contains(certificates.certificatePath("dc-a")))
            }
            var badCA = try settings(certificates)
            badCA.caPEM = bogus
            do throws(ConfigurationError) { _ = try AgentTLS(badCA); Issue.record("a bogus CA was accepted") } catch {
                #expect(error.keyPath == "tls.ca")
                #expect(error.problem.contains(certificates.caPath))
            }
            var badKey = try settings(certificates)
            badKey.privateKey = Secret("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", source: .environment("TLS_KEY"))
            do throws(ConfigurationError) { _ = try AgentTLS(badKey); Issue.record("a bogus key was accepted") } catch {
                #expect(error.keyPath == "tls.private_key")
                #expect(error.problem.contains("env TLS_KEY"))
                #expect(error.fix.contains("PEM"))
            }
        }
    }

    @Test("switchback agent with a key that does not match its certificate exits 2 naming tls.private_key")
    func agentCommandRefusesMismatchedKey() async throws {
        try await withTemporaryDirectory(prefix: "tls-agent-command") { directory in
            let certificates = try await TestCertificates.issue(in: directory.appendingPathComponent("pki"), names: ["dc-a", "dc-b"])
            let yaml = tlsAgentYAML(
                name: "dc-a", port: 0, dataDir: directory.appendingPathComponent("data").path, bootstrapA: "127.0.0.1:1",
                bootstrapB: "127.0.0.1:2", ports: ["dc-a": 1, "dc-b": 2, "witness": 3], certificates: certificates, clientAuth: .none
            ).replacingOccurrences(of: certificates.keyPath("dc-a"), with: certificates.keyPath("dc-b"))
            let file = directory.appendingPathComponent("agent.yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            let run = try await runSwitchback(["agent", "--config", file.path], environment: ["PEER": peerSecret, "TOKEN": operatorToken])
            #expect(run.status == 2, "\(run.errors)")
            #expect(run.errors.contains("tls.private_key") && run.errors.contains("does not belong to the certificate"), "\(run.errors)")
        }
    }

    @Test("an agent whose key does not match its certificate does not start, and says why")
    func agentRefusesToStart() async throws {
        try await withTemporaryDirectory(prefix: "tls-material") { directory in
            let certificates = try await TestCertificates.issue(in: directory.appendingPathComponent("pki"), names: ["dc-a", "dc-b"])
            var configuration = try AgentConfiguration.parse(
                yaml: agentYAML(name: "dc-a", port: 0, dataDir: directory.appendingPathComponent("data").path, bootstrapA: "127.0.0.1:1",
                                bootstrapB: "127.0.0.1:2", ports: ["dc-a": 1, "dc-b": 2, "witness": 3]),
                secrets: secrets)
            configuration.tls = try settings(certificates, key: "dc-b")
            let agent = Agent(configuration: configuration, logger: Logger(label: "test.agent.tls"), warmUpLimit: .zero)
            await #expect {
                try await agent.run()
            } throws: { error in
                "\(error)".contains("tls.private_key") && "\(error)".contains("does not belong to the certificate")
            }
            #expect(agent.listeningPort == nil)
        }
    }
}
