import Logging
import NIOCore
import NIOPosix
import Synchronization

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

    /// Where connections' serving tasks run; nil for Swift's default (the cooperative pool).
    var taskExecutor: (any TaskExecutor)? { get }
}

/// Accepts Kafka client connections and hands each to a `KafkaConnectionHandler`.
final class KafkaListener: Sendable {
    private let serverChannel: any Channel
    private let openChannels: OpenChannels
    private let handlerBox: HandlerBox

    /// The address actually bound (the port is chosen by the OS when 0 was asked for).
    let localAddress: SocketAddress

    /// Set once before serving: the broker core is made after binding (it needs the port).
    private final class HandlerBox: Sendable {
        let value = Mutex<(handler: any KafkaFrameHandler, faults: FaultInjector)?>(nil)
    }

    private init(serverChannel: any Channel, openChannels: OpenChannels, handlerBox: HandlerBox) throws {
        self.serverChannel = serverChannel
        self.openChannels = openChannels
        self.handlerBox = handlerBox
        guard let address = serverChannel.localAddress else {
            throw BrokerError(.network, "the Kafka listener has no local address after binding")
        }
        self.localAddress = address
    }

    /// Binds the listening socket; connections are served once `activate` is called (until
    /// then they are closed on arrival).
    static func bind(host: String, port: Int, maxFrameBytes: Int, logger: Logger) async throws -> KafkaListener {
        let openChannels = OpenChannels()
        let handlerBox = HandlerBox()
        let nextConnectionID = Atomic<Int>(0)
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard let (handler, faults) = handlerBox.value.withLock({ $0 }) else {
                    return channel.close()
                }
                let id = nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrameBytes))
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        KafkaConnectionHandler(id: id, handler: handler, faults: faults, openChannels: openChannels, logger: logger)
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        return try KafkaListener(serverChannel: serverChannel, openChannels: openChannels, handlerBox: handlerBox)
    }

    /// Starts serving connections with `handler` (connections that arrive before are closed).
    func activate(handler: some KafkaFrameHandler, faults: FaultInjector) {
        faults.setBlackholeHandler { [openChannels] in openChannels.closeAll(stopping: false) }
        handlerBox.value.withLock { $0 = (handler, faults) }
    }

    /// Waits until the task is cancelled, then closes the listening socket and every open
    /// connection.
    func run() async throws {
        try await withTaskCancellationHandler {
            try await serverChannel.closeFuture.get()
        } onCancel: {
            close()
        }
    }

    /// Closes the listening socket and every connection.
    func close() {
        openChannels.closeAll(stopping: true)
        serverChannel.close(promise: nil)
    }
}
