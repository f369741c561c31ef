import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The broker's HTTP control endpoint: fault injection for tests and the sandbox.
///
/// It has no authentication, so it binds to the address it is given and the `broker` command
/// defaults it to loopback.
final class ControlServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    private let acceptor: ConnectionAcceptor<HTTPServerRequestPart, HTTPServerResponsePart>
    private let faults: FaultInjector
    private let logger: Logger
    var localAddress: SocketAddress { acceptor.localAddress }

    /// Request bodies are not used; anything larger than this is refused unread.
    private static let maxBodyBytes = 64 * 1024

    private init(serverChannel: NIOAsyncChannel<Connection, Never>, faults: FaultInjector, logger: Logger) throws {
        self.acceptor = try ConnectionAcceptor(serverChannel: serverChannel, name: "control endpoint")
        self.faults = faults
        self.logger = logger
    }

    static func bind(host: String, port: Int, faults: FaultInjector, logger: Logger) async throws -> ControlServer {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return try ControlServer(serverChannel: serverChannel, faults: faults, logger: logger)
    }

    func run() async throws {
        try await acceptor.run { connection, _ in await self.serve(connection) }
    }

    private func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var bodyBytes = 0
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        bodyBytes = 0
                    case .body(let chunk):
                        bodyBytes += chunk.readableBytes
                    case .end:
                        guard let requestHead = head else { continue }
                        let (status, text) = bodyBytes > Self.maxBodyBytes
                            ? (413, "request body too large; control calls take no body\n")
                            : answer(requestHead)
                        try await Self.write(status: status, text: text, keepAlive: requestHead.isKeepAlive, to: outbound)
                        if !requestHead.isKeepAlive { return }
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("control connection closed", metadata: ["reason": "\(error)"])
        }
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

    private static func write(
        status: Int, text: String, keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        try await outbound.write(.head(head))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
        try await outbound.write(.end(nil))
    }
}
