import AgentServer
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Polls every agent's `GET /v1/active` from inside an observer network namespace, one thread
/// per agent, and records each answer with the times it was asked and answered.
///
/// Each thread joins the observer namespace with `setns(2)` (network namespaces are per thread
/// on Linux), so polling costs one TCP connection per poll, not a process.
final class SidecarRecorder: Sendable {
    private let start = ContinuousClock.now
    private let polls = Mutex<[SidecarPoll]>([])
    private let stopped = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    private let namespace: String
    private let interval: Duration
    private let timeout: Duration

    /// - Parameters:
    ///   - namespace: the observer's namespace name (as under /var/run/netns).
    ///   - interval: pause between two polls of one agent.
    ///   - timeout: how long one poll may take before it counts as failed.
    init(namespace: String, interval: Duration = .milliseconds(25), timeout: Duration = .milliseconds(300)) {
        self.namespace = namespace
        self.interval = interval
        self.timeout = timeout
    }

    /// Time since the recorder was made, on the clock the polls are timed with.
    var elapsed: Duration { ContinuousClock.now - start }

    /// Starts polling `agent` at `host:port` until `stop()`.
    func record(agent: String, host: String, port: UInt16) throws {
        let descriptor = open("/var/run/netns/\(namespace)", O_RDONLY)
        guard descriptor >= 0 else { throw AgentTestFailure("cannot open network namespace \(namespace): errno \(errno)") }
        running.add(1, ordering: .sequentiallyConsistent)
        let thread = Thread { [self] in
            defer {
                close(descriptor)
                running.subtract(1, ordering: .sequentiallyConsistent)
            }
            guard Self.enterNamespace(descriptor) else { return }
            while !stopped.load(ordering: .relaxed) {
                let sent = elapsed
                let answer = Self.get(host: host, port: port, path: "/v1/active", timeout: timeout)
                let received = elapsed
                let poll =
                    answer.map {
                        SidecarPoll(agent: agent, sent: sent, received: received, epoch: $0.epoch, servingActive: $0.servingHere)
                    } ?? .failed(agent, sent: sent, received: received)
                polls.withLock { $0.append(poll) }
                usleep(useconds_t(interval.components.attoseconds / 1_000_000_000_000 + interval.components.seconds * 1_000_000))
            }
        }
        thread.start()
    }

    /// Tells every polling thread to stop after its current poll.
    func cancel() { stopped.store(true, ordering: .sequentiallyConsistent) }

    /// Stops every polling thread and returns all polls recorded.
    func stop() async -> [SidecarPoll] {
        cancel()
        _ = await eventually(timeout: .seconds(5)) { running.load(ordering: .sequentiallyConsistent) == 0 }
        return polls.withLock { $0 }
    }

    /// `setns(2)` is not in Swift's Glibc module; look it up in libc.
    private static func enterNamespace(_ descriptor: Int32) -> Bool {
        typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return false }
        let newNetworkNamespace: Int32 = 0x4000_0000  // CLONE_NEWNET
        return unsafeBitCast(symbol, to: SetNamespace.self)(descriptor, newNetworkNamespace) == 0
    }

    /// A blocking HTTP/1.1 GET with one connection; `nil` on any failure or a non-2xx status.
    private static func get(host: String, port: UInt16, path: String, timeout: Duration) -> ActiveAnswer? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        defer { close(socket) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: response, as: UTF8.self)
        // The body is one small JSON object; whatever the framing, it lies between the first
        // "{" and the last "}".
        guard text.hasPrefix("HTTP/1.1 2"), let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}") else { return nil }
        return try? decodeJSON(ActiveAnswer.self, Data(text[open...close].utf8))
    }
}
