import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A simulated link between two datacenters, in user space (this machine has no `tc netem`):
/// a TCP proxy in front of a broker that delays every chunk by half the round trip in each
/// direction, paces each direction to a bandwidth, and counts the bytes that cross.
///
/// Model: a chunk leaves when the direction's link is free (serialization at `bytesPerSecond`)
/// and arrives `oneWayDelay` later; reading from a side stops while more than one round trip's
/// worth of bytes is queued, so senders feel the link's back-pressure as they would over TCP.
final class LinkProxy: Sendable {
    struct Settings: Sendable, CustomStringConvertible {
        var roundTrip: Duration
        /// Per direction; `nil` for no cap.
        var bytesPerSecond: Int?

        var description: String {
            "\(roundTrip.components.seconds * 1000 + roundTrip.components.attoseconds / 1_000_000_000_000_000) ms round trip, "
                + (bytesPerSecond.map { "\($0 / 1_000_000) MB/s per direction" } ?? "no bandwidth cap")
        }
    }

    let settings: Settings
    let port: Int
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let upstream = Upstream()
    /// Bytes forwarded towards the broker and back from it.
    let counters = LinkCounters()

    /// Listens on a free port of 127.0.0.1; connections are refused until ``connect(to:port:)``.
    init(settings: Settings) async throws {
        self.settings = settings
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let upstream = self.upstream
        let counters = counters
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                guard let target = upstream.address.withLock({ $0 }) else { return inbound.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelOption(.autoRead, value: false)
                    .connect(host: target.host, port: target.port)
                    .flatMap { outbound in
                        let toBroker = DelayedPipe(settings: settings, count: { counters.add(toBroker: $0) })
                        let fromBroker = DelayedPipe(settings: settings, count: { counters.add(fromBroker: $0) })
                        toBroker.peer = outbound
                        fromBroker.peer = inbound
                        toBroker.source = inbound
                        fromBroker.source = outbound
                        return inbound.pipeline.addHandler(toBroker).flatMap { outbound.pipeline.addHandler(fromBroker) }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    /// Where the proxy forwards to (the broker, once it listens).
    func connect(to host: String, port: Int) { upstream.address.withLock { $0 = (host, port) } }

    func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// The broker's address, set once it listens.
private final class Upstream: Sendable {
    let address = Mutex<(host: String, port: Int)?>(nil)
}

/// Bytes that crossed the simulated link.
final class LinkCounters: Sendable {
    private let state = Mutex<(toBroker: Int, fromBroker: Int)>((0, 0))
    func add(toBroker bytes: Int) { state.withLock { $0.toBroker += bytes } }
    func add(fromBroker bytes: Int) { state.withLock { $0.fromBroker += bytes } }
    var snapshot: (toBroker: Int, fromBroker: Int) { state.withLock { $0 } }
}

/// One direction of the link: reads from `source`, writes to `peer` after the link's delay.
/// Both channels of a connection share one event loop, so this handler needs no lock.
private final class DelayedPipe: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: every field is touched on the one event loop of the connection only.
    typealias InboundIn = ByteBuffer

    let settings: LinkProxy.Settings
    let count: (Int) -> Void
    var peer: (any Channel)?
    var source: (any Channel)?
    private var linkFree = NIODeadline.now()
    private var queued = 0
    private var reading = true

    init(settings: LinkProxy.Settings, count: @escaping (Int) -> Void) {
        self.settings = settings
        self.count = count
    }

    /// Bytes that may wait on the link before reading stops: one round trip at the link's rate.
    private var queueLimit: Int {
        guard let rate = settings.bytesPerSecond else { return 4 << 20 }
        return max(64 << 10, Int(Double(rate) * seconds(settings.roundTrip)))
    }

    // Reading is manual (autoRead off): start once the channel is active.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.read() }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let bytes = buffer.readableBytes
        count(bytes)
        let now = NIODeadline.now()
        let departure = max(now, linkFree)
        var serialization = TimeAmount.zero
        if let rate = settings.bytesPerSecond { serialization = .nanoseconds(Int64(Double(bytes) / Double(rate) * 1e9)) }
        linkFree = departure + serialization
        let arrival = linkFree + .nanoseconds(Int64(seconds(settings.roundTrip) / 2 * 1e9))
        queued += bytes
        let loop = context.eventLoop
        loop.scheduleTask(deadline: arrival) { [self] in
            guard let peer else { return }
            peer.writeAndFlush(buffer).whenComplete { [self] _ in
                queued -= bytes
                if !reading && queued < queueLimit {
                    reading = true
                    source?.read()
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if queued < queueLimit { context.read() } else { reading = false }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Let what is already on the link arrive, then close the other side.
        let closeAt = linkFree + .nanoseconds(Int64(seconds(settings.roundTrip) / 2 * 1e9))
        context.eventLoop.scheduleTask(deadline: closeAt) { [self] in _ = peer?.close() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
