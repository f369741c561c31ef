import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking socket work on a Dispatch thread: blocking a thread of Swift's small
/// cooperative pool would starve the in-process broker the test talks to.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// A plain TCP socket to the broker, for tests that must send bytes no client would: every
/// wait is bounded by a deadline (`poll`), never by a sleep, and happens off the cooperative pool.
final class RawConnection: Sendable {
    private let descriptor: Int32
    private let closed = Atomic<Bool>(false)

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What a bounded read saw.
    enum Received: Equatable {
        case bytes([UInt8])
        /// The peer closed (EOF or reset).
        case closed
        /// Nothing arrived before the deadline; the connection is still open.
        case silent
    }

    /// Connects to `address` (`host:port`, IPv4). A loopback connect completes in the kernel
    /// (even to a blackholed broker), so it does not block.
    init(_ address: String) throws {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw Failure(description: "bad address \(address)") }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        self.descriptor = descriptor
        var peer = sockaddr_in()
        peer.sin_family = sa_family_t(AF_INET)
        peer.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &peer.sin_addr) == 1 else {
            Glibc.close(descriptor)
            throw Failure(description: "bad IPv4 host in \(address)")
        }
        let connected = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw Failure(description: "connect to \(address) failed: errno \(code)")
        }
    }

    deinit { close() }

    /// Sends all of `bytes`; returns false when the peer already closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// Tells the peer nothing more will be sent (half-close), as a client that finished does.
    func finishSending() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Waits until some bytes arrive, the peer closes, or `timeout` passes.
    func receive(timeout: Duration) async -> Received {
        await offThePool { self.receiveBlocking(timeout: timeout) }
    }

    private func receiveBlocking(timeout: Duration) -> Received {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return .silent }
            var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&pollDescriptor, 1, max(1, milliseconds))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return .closed }
            return .bytes(Array(buffer[0..<count]))
        }
    }

    /// Reads one Kafka response frame (size prefix removed), or nil when the connection closed
    /// or stayed silent until `timeout`.
    func receiveFrame(timeout: Duration) async -> [UInt8]? {
        await offThePool { self.receiveFrameBlocking(timeout: timeout) }
    }

    private func receiveFrameBlocking(timeout: Duration) -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        while true {
            if bytes.count >= 4 {
                let size = Int(Int32(bigEndian: bytes[0..<4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
                if size >= 0, bytes.count >= 4 + size { return Array(bytes[4..<(4 + size)]) }
            }
            guard case .bytes(let chunk) = receiveBlocking(timeout: deadline - ContinuousClock.now) else { return nil }
            bytes += chunk
        }
    }

    /// Reads and discards until the peer closes; true if it did before `timeout`.
    func waitForClose(timeout: Duration) async -> Bool {
        await offThePool { self.waitForCloseBlocking(timeout: timeout) }
    }

    private func waitForCloseBlocking(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            switch receiveBlocking(timeout: deadline - ContinuousClock.now) {
            case .closed: return true
            case .silent: return false
            case .bytes: continue
            }
        }
    }

    /// Closes the socket; with `reset`, abortively (RST instead of FIN), as a crashed client.
    func close(reset: Bool = false) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if reset {
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        }
        Glibc.close(descriptor)
    }
}

/// A minimal HTTP/1.1 exchange over `RawConnection`, for the broker's control endpoint.
enum ControlCall {
    struct Answer {
        let status: Int
        let body: String
    }

    static func send(_ method: String, _ target: String, to address: String, timeout: Duration = .seconds(10)) async throws -> Answer {
        let connection = try RawConnection(address)
        let request = "\(method) \(target) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        guard connection.send(Array(request.utf8)) else { throw RawConnection.Failure(description: "control endpoint closed before the request was sent") }
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        reading: while true {
            switch await connection.receive(timeout: deadline - ContinuousClock.now) {
            case .bytes(let chunk): bytes += chunk
            case .closed: break reading
            case .silent: throw RawConnection.Failure(description: "no complete answer to \(method) \(target) within \(timeout)")
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { throw RawConnection.Failure(description: "malformed HTTP answer: \(text)") }
        let statusLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else { throw RawConnection.Failure(description: "malformed status line: \(statusLine)") }
        return Answer(status: status, body: String(text[headEnd.upperBound...]))
    }
}
