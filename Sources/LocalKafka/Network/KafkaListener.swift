import Logging
import NIOCore
import NIOPosix

/// Who sent a request: what a handler may need to know about the connection.
struct ClientConnection: Sendable {
    /// Unique per accepted connection, for logs.
    let id: Int
    /// The peer's host as Kafka reports it in DescribeGroups (`/127.0.0.1`).
    let host: String
}

/// Serves decoded frames of one connection.
protocol KafkaFrameHandler: Sendable {
    /// Answers one request frame (without its size prefix).
    ///
    /// - Returns: the response frame including its size prefix, or nil when the request expects
    ///   no answer (produce with `acks=0`, or a blackholed broker).
    /// - Throws: when the frame cannot be understood; the connection is then closed.
    func handle(frame: ByteBuffer, from client: ClientConnection) async throws -> ByteBuffer?
}

/// Accepts Kafka client connections and feeds each connection's frames, strictly one after the
/// other, to a handler.
///
/// Kafka answers a connection's requests in the order they were sent; processing one frame at a
/// time per connection (as Kafka's own broker does by muting the channel) keeps that order even
/// when a fetch or a join is parked for seconds.
final class KafkaListener: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    private let acceptor: ConnectionAcceptor<ByteBuffer, ByteBuffer>
    private let logger: Logger

    /// The address actually bound (the port is chosen by the OS when 0 was asked for).
    var localAddress: SocketAddress { acceptor.localAddress }

    private init(serverChannel: NIOAsyncChannel<Connection, Never>, logger: Logger) throws {
        self.acceptor = try ConnectionAcceptor(serverChannel: serverChannel, name: "Kafka listener")
        self.logger = logger
    }

    /// Binds the listening socket; connections are accepted once `run` is called.
    static func bind(host: String, port: Int, maxFrameBytes: Int, logger: Logger) async throws -> KafkaListener {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrameBytes))
                    )
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return try KafkaListener(serverChannel: serverChannel, logger: logger)
    }

    /// Accepts and serves connections until the task is cancelled, then closes them all.
    func run(handler: some KafkaFrameHandler, faults: FaultInjector) async throws {
        faults.setBlackholeHandler { [acceptor] in acceptor.dropOpenConnections() }
        try await acceptor.run { connection, id in
            await self.serve(connection, id: id, handler: handler, faults: faults)
        }
    }

    /// Closes the listening socket without serving (start-up failed after binding).
    func close() {
        acceptor.stop()
    }

    private func serve(_ connection: Connection, id: Int, handler: some KafkaFrameHandler, faults: FaultInjector) async {
        let client = ClientConnection(id: id, host: Self.host(of: connection.channel.remoteAddress))
        if faults.admitConnection() == .refuse {
            connection.channel.close(promise: nil)
        }
        do {
            // executeThenClose finishes the channel's writer also when the channel was closed
            // above; an NIOAsyncChannel dropped with an unfinished writer traps.
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    guard let response = try await handler.handle(frame: frame, from: client) else { continue }
                    try await outbound.write(response)
                }
            }
        } catch is CancellationError {
            // The broker is stopping; closing its connections is expected, not a problem.
            logger.debug("closed Kafka connection at shutdown", metadata: ["connection": "\(id)", "client": "\(client.host)"])
        } catch {
            // Hostile or broken input ends only this connection; the broker keeps serving.
            logger.warning("closed Kafka connection", metadata: [
                "connection": "\(id)", "client": "\(client.host)", "reason": "\(error)",
            ])
        }
    }

    private static func host(of address: SocketAddress?) -> String {
        guard let ip = address?.ipAddress else { return "/unknown" }
        return "/\(ip)"
    }
}
