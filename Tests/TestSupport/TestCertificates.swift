import Foundation
import Spawning

/// A throwaway certificate authority and certificates it issued, made with the `openssl` command
/// line tool (Debian package `openssl`, installed by `script/bootstrap`) in a directory of the
/// caller's, so TLS tests use real PEM files and real handshakes.
///
/// Leaf certificates name `127.0.0.1` and `localhost` as subject alternative names unless
/// told otherwise, and may serve as a TLS server and a TLS client, as an agent's certificate does.
public struct TestCertificates: Sendable {
    /// The directory holding the files: `ca.pem`, `ca.key`, and `NAME.pem` / `NAME.key`.
    public let directory: URL

    /// The CA certificate (PEM): the trust root for everything issued here.
    public var caPath: String { directory.appendingPathComponent("ca.pem").path }
    /// The certificate (PEM) issued to `name`.
    public func certificatePath(_ name: String) -> String { directory.appendingPathComponent("\(name).pem").path }
    /// The unencrypted private key (PEM, PKCS #8) of `name`'s certificate.
    public func keyPath(_ name: String) -> String { directory.appendingPathComponent("\(name).key").path }

    /// Makes a new CA in `directory` (created if needed) and a certificate for each of `names`.
    public static func issue(in directory: URL, names: [String]) async throws -> TestCertificates {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        let ca = directory.appendingPathComponent("ca").path
        try await openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=Switchback test CA \(directory.lastPathComponent)", "-keyout", ca + ".key", "-out", ca + ".pem",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        for name in names { try await certificates.issueLeaf(name) }
        return certificates
    }

    /// Issues (or reissues) a certificate and key for `name`, signed by this CA, naming
    /// `alternativeNames` (openssl's subjectAltName syntax) as the hosts it is valid for.
    public func issueLeaf(_ name: String, alternativeNames: String = "IP:127.0.0.1, DNS:localhost") async throws {
        let ca = directory.appendingPathComponent("ca").path
        let leaf = directory.appendingPathComponent(name).path
        try """
            subjectAltName = \(alternativeNames)
            extendedKeyUsage = serverAuth, clientAuth
            keyUsage = critical, digitalSignature
            basicConstraints = critical, CA:FALSE

            """.write(toFile: leaf + ".ext", atomically: true, encoding: .utf8)
        try await Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(name)",
            "-keyout", leaf + ".key", "-out", leaf + ".csr",
        ])
        try await Self.openssl([
            "x509", "-req", "-in", leaf + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-set_serial",
            String(UInt32.random(in: 1...UInt32.max)), "-days", "2", "-extfile", leaf + ".ext", "-out", leaf + ".pem",
        ])
    }

    /// Runs `/usr/bin/openssl` (or the first `openssl` on PATH) with `arguments`; throws with its
    /// output when it fails.
    public static func openssl(_ arguments: [String]) async throws {
        let executable = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let executable else {
            throw CertificateToolError("openssl is not installed; run script/bootstrap (it installs the Debian package openssl)")
        }
        let (termination, output) = try await SpawnedProcess.run(executable, arguments)
        let status = termination.status
        guard status == 0 else {
            throw CertificateToolError("openssl \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
    }
}

/// `openssl` missing or failing while making test certificates.
public struct CertificateToolError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
