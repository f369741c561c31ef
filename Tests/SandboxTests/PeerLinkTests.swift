import Foundation
import NIOCore
import NIOPosix
import Testing
import TestSupport

@testable import Sandbox

#if canImport(Glibc)
import Glibc
#endif

/// The partition mechanism: a link relays real TCP until it is cut, then refuses, then relays
/// again once healed.
@Suite(.timeLimit(.minutes(1)))
struct PeerLinkTests {
    @Test func aCutLinkClosesWhatIsOpenAndRefusesNewConnectionsUntilHealed() async throws {
        let echo = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.pipeline.addHandler(Echo()) }
            .bind(host: "127.0.0.1", port: 0).get()
        let link = try await PeerLink.open(from: "dc-a", to: "dc-b", targetPort: echo.localAddress?.port ?? 0)
        defer { Task { await link.close(); try? await echo.close() } }

        let open = try await offCooperativePool { try LoopbackClient(port: link.port) }
        #expect(try await offCooperativePool { try open.roundTrip("ping") } == "ping")
        link.cut()
        #expect(try await offCooperativePool { try open.roundTrip("after cut") } == nil, "the open connection is closed")
        let refused = try await offCooperativePool { try LoopbackClient(port: link.port) }
        #expect(try await offCooperativePool { try refused.roundTrip("while cut") } == nil, "a new one is closed at once")
        link.heal()
        let healed = try await offCooperativePool { try LoopbackClient(port: link.port) }
        #expect(try await offCooperativePool { try healed.roundTrip("healed") } == "healed")
    }
}

/// Writes back what it reads.
private final class Echo: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// A blocking TCP client with a 5 s receive timeout.
private final class LoopbackClient: @unchecked Sendable {
    // @unchecked: each instance is used by one test step at a time.
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SandboxTestFailure("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
    }

    deinit { close(descriptor) }

    /// Sends `text` and reads the answer; `nil` when the connection is closed instead.
    func roundTrip(_ text: String) throws -> String? {
        let bytes = Array(text.utf8)
        guard send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw SandboxTestFailure("no answer and no close within 5 s") }
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }
}
