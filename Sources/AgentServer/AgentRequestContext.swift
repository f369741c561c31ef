import Hummingbird
import NIOCore
import NIOSSL

/// The request context of the agent's API: Hummingbird's, plus the connection, so the peer
/// route can see which certificate the client presented.
public struct AgentRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came in on.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The client's certificate (verified against `tls.ca` during the handshake), or `nil`
    /// on plain HTTP or when the client presented none.
    func peerCertificate() async -> NIOSSLCertificate? {
        (try? await channel.nioSSL_peerCertificate().get()) ?? nil
    }
}
