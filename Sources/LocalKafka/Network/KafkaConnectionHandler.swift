import KafkaWire
import Logging
import NIOCore

/// Serves one Kafka client connection: frames in, answers out, strictly in order.
///
/// Frames go into a stream that one task drains, so a request parked for seconds (a fetch
/// waiting for data, a join waiting for the rebalance) holds back the answers behind it, as
/// Kafka's own broker does by muting the channel. A client that piles up more unanswered
/// requests than `maxQueuedFrames` is disconnected rather than buffered without bound.
final class KafkaConnectionHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxQueuedFrames = 256

    private let handler: any KafkaFrameHandler
    private let faults: FaultInjector
    private let openChannels: OpenChannels
    private let logger: Logger
    private let id: Int
    private let frames: AsyncStream<ByteBuffer>
    private let queue: AsyncStream<ByteBuffer>.Continuation

    init(id: Int, handler: any KafkaFrameHandler, faults: FaultInjector, openChannels: OpenChannels, logger: Logger) {
        self.id = id
        self.handler = handler
        self.faults = faults
        self.openChannels = openChannels
        self.logger = logger
        (frames, queue) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(Self.maxQueuedFrames))
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        guard faults.admitConnection() != .refuse, openChannels.add(channel) else {
            queue.finish()
            context.close(promise: nil)
            return
        }
        let client = ClientConnection(id: id, host: Self.host(of: channel.remoteAddress))
        let (frames, handler, faults, logger, id) = (self.frames, self.handler, self.faults, self.logger, self.id)
        // On the handler's executor when it has one (the broker's own thread), so a busy
        // cooperative pool cannot stall the broker.
        Task(executorPreference: handler.taskExecutor) {
            for await frame in frames {
                do {
                    // Held, not dropped, while blackholed; this holds the frames behind it too.
                    await faults.waitWhileBlackholed()
                    guard let response = try await handler.handle(frame: frame, from: client) else { continue }
                    try await channel.writeAndFlush(response)
                } catch let error as WireError {
                    // Hostile or broken input ends only this connection; the broker keeps serving.
                    logger.warning("closed Kafka connection", metadata: [
                        "connection": "\(id)", "client": "\(client.host)", "reason": "malformed request: \(error)",
                    ])
                    try? await channel.close()
                    break
                } catch {
                    // The client went away (reset, or closed before its answer was written), or
                    // the broker is stopping: nothing the client sent was wrong.
                    logger.info("Kafka connection lost", metadata: [
                        "connection": "\(id)", "client": "\(client.host)", "reason": "\(error)",
                    ])
                    try? await channel.close()
                    break
                }
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        if case .dropped = queue.yield(frame) {
            logger.warning("closed Kafka connection", metadata: [
                "connection": "\(id)", "reason": "more than \(Self.maxQueuedFrames) requests waiting for an answer",
            ])
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.finish()
        openChannels.remove(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is WireError {
            // A malformed frame (negative or oversized length) lands here from the decoder.
            logger.warning("closed Kafka connection", metadata: ["connection": "\(id)", "reason": "malformed request: \(error)"])
        } else {
            logger.info("Kafka connection lost", metadata: ["connection": "\(id)", "reason": "\(error)"])
        }
        queue.finish()
        context.close(promise: nil)
    }

    private static func host(of address: SocketAddress?) -> String {
        guard let ip = address?.ipAddress else { return "/unknown" }
        return "/\(ip)"
    }
}
