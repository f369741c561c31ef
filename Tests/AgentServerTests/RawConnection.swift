import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A plain TCP connection to a loopback port, driven byte by byte: for clients that misbehave
/// on purpose (open and say nothing, stop in the middle of a request). Blocking calls run off
/// the cooperative pool.
final class RawConnection: Sendable {
    let descriptor: Int32

    /// Connects to `127.0.0.1:port` (returns once the kernel has queued the connection, whether
    /// or not the server has accepted it).
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawConnectionError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw RawConnectionError("connect to port \(port): \(String(cString: strerror(errno)))")
        }
        descriptor = fd
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw RawConnectionError("send: \(String(cString: strerror(errno)))") }
    }

    /// What the server sends (or `""` when it closes) within `timeout`; `nil` when it stays
    /// silent and keeps the connection open that long.
    func receive(within timeout: Duration) async throws -> String? {
        let fd = descriptor
        return try await offCooperativePool { () -> String? in
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
            guard ready > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count <= 0 ? "" : String(decoding: buffer[0..<count], as: UTF8.self)
        }
    }

    /// Sends a request and reads its answer (the first bytes of it).
    func exchange(_ request: String, within timeout: Duration = .seconds(10)) async throws -> String? {
        try send(request)
        return try await receive(within: timeout)
    }

    private let closed = Mutex(false)

    /// Closes the socket once; later calls do nothing (a second close could close a descriptor
    /// the process has reused meanwhile — NIO's, for one).
    func close() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if first { Glibc.close(descriptor) }
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
