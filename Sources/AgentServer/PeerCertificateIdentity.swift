import Foundation
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which agent a peer's TLS client certificate belongs to.
///
/// Each agent's certificate is also the server certificate its peers check against the host of
/// its configured URL (`sites.NAME.agent`, `witnesses.NAME.agent`), so that host is already in
/// the certificate's subjectAltName. The same rule identifies the agent as a client: a
/// certificate speaks for agent NAME only when one of its subjectAltNames is exactly the host of
/// NAME's agent URL — a DNS name (compared without case; wildcards never match) or an IP
/// address. A peer presenting agent-b's certificate therefore cannot speak as agent-a, whatever
/// its `X-Switchback-Agent` header says. Two agents whose URLs share a host cannot be told
/// apart this way (the configuration warns about it).
struct PeerCertificateIdentity: Sendable {
    /// Each agent's URL host, lower-cased, without IPv6 brackets.
    private let hosts: [String: String]

    init(agentURLs: [String: String]) {
        var hosts: [String: String] = [:]
        for (agent, url) in agentURLs {
            if let host = URL(string: url)?.host { hosts[agent] = Self.normalized(host) }
        }
        self.hosts = hosts
    }

    /// The host `agent`'s certificate must name, if `agent` is configured.
    func host(of agent: String) -> String? { hosts[agent] }

    /// Whether `certificate` names the host of `agent`'s URL.
    func certificate(_ certificate: NIOSSLCertificate, speaksFor agent: String) -> Bool {
        guard let host = hosts[agent] else { return false }
        let address = Self.addressBytes(host)
        for name in certificate._subjectAlternativeNames() {
            let bytes = name.contents.withUnsafeBufferPointer { Array($0) }
            switch name.nameType {
            case .dnsName where address == nil:
                if Self.normalized(String(decoding: bytes, as: UTF8.self)) == host { return true }
            case .ipAddress:
                if let address, bytes == address { return true }
            default:
                continue
            }
        }
        return false
    }

    private static func normalized(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        return host
    }

    /// The 4 or 16 bytes of an IP address literal, `nil` for a host name.
    private static func addressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
