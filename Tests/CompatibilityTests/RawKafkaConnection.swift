import KafkaWire
import NIOCore
import NIOPosix

@testable import LocalKafka

/// A bare Kafka protocol connection, built from KafkaWire's codecs, for putting the broker in
/// states that real clients reach only by timing (a JoinGroup parked mid-rebalance).
struct RawKafkaConnection {
    private var responses: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextCorrelationID: Int32 = 1

    /// Sends `request` as `version` and returns its answer.
    mutating func call(_ request: KafkaRequest, _ api: ApiKey, version: Int16) async throws -> KafkaResponse {
        let correlationID = try await send(request, api, version: version)
        guard var frame = try await responses.next() else {
            throw UnexpectedAnswer("the broker closed the connection instead of answering \(api.name)")
        }
        let answered = try ResponseFrame.decodeHeader(api: api, version: version, from: &frame)
        guard answered == correlationID else {
            throw UnexpectedAnswer("answer to correlation id \(answered), expected \(correlationID)")
        }
        return try KafkaResponse.decode(api: api, version: version, body: &frame)
    }

    /// Sends `request` as `version` without waiting for its answer; returns its correlation id.
    @discardableResult
    mutating func send(_ request: KafkaRequest, _ api: ApiKey, version: Int16) async throws -> Int32 {
        let correlationID = nextCorrelationID
        nextCorrelationID += 1
        var frame = ByteBuffer()
        frame.writeInteger(Int32(0))  // size, patched below
        RequestHeader(api: api, apiVersion: version, correlationId: correlationID, clientId: "raw-test").encode(into: &frame)
        request.encode(version: version, into: &frame)
        frame.setInteger(Int32(frame.readableBytes - 4), at: frame.readerIndex)
        try await outbound.write(frame)
        return correlationID
    }

    /// Runs `body` with a connection to `bootstrap` (`host:port`), closed afterwards.
    static func with<T>(_ bootstrap: String, _ body: (inout RawKafkaConnection) async throws -> T) async throws -> T {
        let parts = bootstrap.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else {
            throw UnexpectedAnswer("bootstrap \(bootstrap) is not host:port")
        }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: String(parts[0]), port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Responses use the same size-prefixed framing as requests.
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: 1 << 24)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawKafkaConnection(responses: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }
}

/// The broker answered a raw request with something other than what the protocol says.
struct UnexpectedAnswer: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
