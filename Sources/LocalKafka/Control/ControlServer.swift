import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs the log cleaner on one topic (the broker's `compact(topic:)`).
typealias CompactionTrigger = @Sendable (String) async throws(StorageError) -> CompactionReport

/// The broker's HTTP control endpoint: fault injection and the log cleaner trigger, for tests
/// and the sandbox.
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

    static func bind(
        host: String, port: Int, faults: FaultInjector, compact: @escaping CompactionTrigger, logger: Logger
    ) async throws -> ControlServer {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ControlRequestHandler(faults: faults, compact: compact, logger: logger))
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

/// Answers one control connection's HTTP requests; most synchronously, a compaction when the
/// broker has done it.
/// - Important: used only on its channel's event loop (NIO's rule for handlers).
final class ControlRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request bodies are not used; a request with a larger one is refused.
    static let maxBodyBytes = 64 * 1024

    private let faults: FaultInjector
    private let compact: CompactionTrigger
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(faults: FaultInjector, compact: @escaping CompactionTrigger, logger: Logger) {
        self.faults = faults
        self.compact = compact
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
            guard bodyBytes <= Self.maxBodyBytes else {
                write(status: 413, text: "request body too large; control calls take no body\n", keepAlive: head.isKeepAlive, context: context)
                return
            }
            do {
                let request = try ControlRequest(method: head.method.rawValue, uri: head.uri)
                serve(request, keepAlive: head.isKeepAlive, context: context)
            } catch {
                write(status: error.status, text: error.message + "\n", keepAlive: head.isKeepAlive, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("control connection closed", metadata: ["reason": "\(error)"])
        context.close(promise: nil)
    }

    private func serve(_ request: ControlRequest, keepAlive: Bool, context: ChannelHandlerContext) {
        func answer(_ status: Int, _ text: String) {
            write(status: status, text: text, keepAlive: keepAlive, context: context)
        }
        switch request {
        case .health:
            answer(200, "ok\n")
        case .listFaults:
            let lines = faults.activeFaults.map { "\($0)\n" }.joined()
            answer(200, lines.isEmpty ? "none\n" : lines)
        case .inject(let fault):
            faults.inject(fault)
            answer(200, "injected: \(fault)\n")
        case .heal:
            faults.heal()
            answer(200, "healed\n")
        case .compact(let topic):
            answerCompaction(of: topic, keepAlive: keepAlive, context: context)
        }
    }

    private static func compactionAnswer(_ compact: CompactionTrigger, _ topic: String) async -> (Int, String) {
        do {
            return (200, try await compact(topic).description)
        } catch {
            let status = switch error.code {
            case .unknownTopicOrPartition: 404
            case .invalidConfig: 409
            default: 500
            }
            return (status, error.message + "\n")
        }
    }

    /// Runs the compaction off the event loop and answers on it when done.
    private func answerCompaction(of topic: String, keepAlive: Bool, context: ChannelHandlerContext) {
        let compact = self.compact
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { () -> (Int, String) in
            await Self.compactionAnswer(compact, topic)
        }.whenSuccess { status, text in
            loopBound.value.handler.write(status: status, text: text, keepAlive: keepAlive, context: loopBound.value.context)
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
