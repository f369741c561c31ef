import NIOCore
import NIOPosix
import Synchronization

/// A one-way link between two agents: a TCP relay on loopback in front of one agent's API,
/// used by exactly one other agent as that agent's URL (each agent's configuration names the
/// links out of it). Cutting it is a network partition of that direction without namespaces
/// or root: open connections are closed and new ones are closed as soon as they are accepted.
///
/// The sandbox's own calls (operator API, sidecar, polling) go to the agents directly, so a
/// partitioned agent stays observable.
public final class PeerLink: Sendable {
    public let from: String
    public let to: String
    public let port: Int
    private let server: any Channel
    private let state: LinkState

    private init(from: String, to: String, server: any Channel, state: LinkState) throws {
        self.from = from
        self.to = to
        self.server = server
        self.state = state
        guard let port = server.localAddress?.port else { throw SandboxError("the link \(from)→\(to) has no local port") }
        self.port = port
    }

    /// Listens on a free loopback port and relays every connection to `127.0.0.1:targetPort`.
    public static func open(from: String, to: String, targetPort: Int) async throws -> PeerLink {
        let state = LinkState()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard !state.isCut else { return inbound.close() }
                state.track(inbound)
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        state.track(outbound)
                        let toTarget = RelayHandler(partner: outbound)
                        let toCaller = RelayHandler(partner: inbound)
                        return inbound.pipeline.addHandler(toTarget).and(outbound.pipeline.addHandler(toCaller)).map { _ in }
                    }
                    .flatMapErrorThrowing { error in
                        inbound.close(promise: nil)
                        throw error
                    }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return try PeerLink(from: from, to: to, server: server, state: state)
    }

    public var isCut: Bool { state.isCut }

    /// Drops the link: closes what is open, refuses what comes.
    public func cut() { state.cut() }

    /// Lets connections through again.
    public func heal() { state.heal() }

    public func close() async {
        state.cut()
        try? await server.close()
    }
}

/// Whether a link is cut, and the connections to close when it is.
private final class LinkState: Sendable {
    private let value = Mutex<(cut: Bool, open: [ObjectIdentifier: any Channel])>((false, [:]))

    var isCut: Bool { value.withLock { $0.cut } }

    func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        value.withLock { $0.open[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in _ = value.withLock { $0.open.removeValue(forKey: key) } }
    }

    func cut() {
        let open = value.withLock { state in
            state.cut = true
            return Array(state.open.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    func heal() { value.withLock { $0.cut = false } }
}

/// Writes what one side of a relayed connection reads to the other side; closing either side
/// closes both.
private final class RelayHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let partner: any Channel

    init(partner: any Channel) { self.partner = partner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(Self.unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
