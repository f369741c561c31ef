import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The broker's HTTP control endpoint: fault injection for tests and the sandbox.
///
/// It has no authentication, so it binds to the address it is given and the `broker` command
/// defaults it to loopback. Every call is answered synchronously on the connection's event loop.
final class ControlServer: Sendable {
    private let serverChannel: any Channel
    let localAddress: SocketAddress

    private init(serverChannel: any Channel) throws {
        self.serverChannel = serverChannel
        guard let address = serverChannel.localAddress else {
            throw BrokerError(.network, "the control endpoint has no local address after binding")
        }
        self.localAddress = address
    }

    static func bind(host: String, port: Int, faults: FaultInjector, logger: Logger) async throws -> ControlServer {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ControlRequestHandler(faults: faults, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
        return try ControlServer(serverChannel: serverChannel)
    }

    /// Serves until the task is cancelled, then closes the listening socket.
    func run() async throws {
        try await withTaskCancellationHandler {
            try await serverChannel.closeFuture.get()
        } onCancel: {
            serverChannel.close(promise: nil)
        }
    }
}

/// Answers one control connection's HTTP requests.
/// - Important: used only on its channel's event loop (NIO's rule for handlers).
final class ControlRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request bodies are not used; a request with a larger one is refused.
    static let maxBodyBytes = 64 * 1024

    private let faults: FaultInjector
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(faults: FaultInjector, logger: Logger) {
        self.faults = faults
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            bodyBytes = 0
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, text) = bodyBytes > Self.maxBodyBytes
                ? (413, "request body too large; control calls take no body\n")
                : answer(head)
            write(status: status, text: text, keepAlive: head.isKeepAlive, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("control connection closed", metadata: ["reason": "\(error)"])
        context.close(promise: nil)
    }

    private func answer(_ head: HTTPRequestHead) -> (Int, String) {
        let request: ControlRequest
        do {
            request = try ControlRequest(method: head.method.rawValue, uri: head.uri)
        } catch {
            return (error.status, error.message + "\n")
        }
        switch request {
        case .health:
            return (200, "ok\n")
        case .listFaults:
            let lines = faults.activeFaults.map { "\($0)\n" }.joined()
            return (200, lines.isEmpty ? "none\n" : lines)
        case .inject(let fault):
            faults.inject(fault)
            return (200, "injected: \(fault)\n")
        case .heal:
            faults.heal()
            return (200, "healed\n")
        }
    }

    private func write(status: Int, text: String, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        let done = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
