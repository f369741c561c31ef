/// `tls:` — HTTPS for the agent's API (sidecar, operator, peer, /metrics) and for its calls to
/// the other agents.
///
/// With `tls:` set the agent serves HTTPS only, every agent URL under `sites` and `witnesses`
/// is `https://`, and peers' certificates are verified against ``caPEM`` with hostname checks.
/// Peer messages stay HMAC-signed (`auth.peer_secret`) on top of TLS.
///
/// The files are read when the configuration loads, so a missing or unreadable file stops the
/// agent at start, naming the key.
public struct TLSSettings: Sendable {
    /// Whether clients must present a certificate issued by `ca`.
    public enum ClientAuthentication: String, Hashable, Sendable, Codable {
        /// Any client may connect; peers prove themselves with the HMAC signature (the default).
        case none
        /// Every client (peer agents, operators, sidecars) presents a certificate from `ca`.
        case required
    }

    /// `tls.certificate`: the PEM file with this agent's certificate, then its intermediates.
    public var certificatePath: String
    /// The contents of ``certificatePath``: one or more PEM certificates.
    public var certificatePEM: String
    /// `tls.private_key`: the PEM private key of the certificate (from a file or the environment).
    public var privateKey: Secret
    /// `tls.ca`: the PEM bundle that peers' certificates are verified against.
    public var caPath: String
    /// The contents of ``caPath``: one or more PEM certificates.
    public var caPEM: String
    /// `tls.client_auth`. Default `none`.
    public var clientAuthentication: ClientAuthentication

    public init(
        certificatePath: String, certificatePEM: String, privateKey: Secret, caPath: String, caPEM: String,
        clientAuthentication: ClientAuthentication
    ) {
        self.certificatePath = certificatePath
        self.certificatePEM = certificatePEM
        self.privateKey = privateKey
        self.caPath = caPath
        self.caPEM = caPEM
        self.clientAuthentication = clientAuthentication
    }
}
