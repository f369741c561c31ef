import NIOCore
import Synchronization

/// Accepts the connections of a listening NIOAsyncChannel, serves each in its own task, and
/// stops cleanly: the one place that knows how to shut a NIO server down without losing a
/// connection.
///
/// - Important: the accept loop runs in a task of its own that is never cancelled. A cancelled
///   loop makes NIO drop connections it accepted but had not handed out yet, and dropping an
///   NIOAsyncChannel whose writer was never finished traps. `stop()` closes the listening socket
///   instead, which ends the stream after the last accepted connection, and closes every open
///   connection (and any accepted after the stop) so their tasks end.
final class ConnectionAcceptor<Inbound: Sendable, Outbound: Sendable>: Sendable {
    typealias Connection = NIOAsyncChannel<Inbound, Outbound>

    private struct Registry {
        var channels: [Int: any Channel] = [:]
        var isStopping = false
    }

    private let serverChannel: NIOAsyncChannel<Connection, Never>
    private let registry = Mutex(Registry())
    private let nextConnectionID = Atomic<Int>(0)

    /// The address actually bound (the port is chosen by the OS when 0 was asked for).
    let localAddress: SocketAddress

    init(serverChannel: NIOAsyncChannel<Connection, Never>, name: String) throws {
        self.serverChannel = serverChannel
        guard let address = serverChannel.channel.localAddress else {
            throw BrokerError(.network, "the \(name) has no local address after binding")
        }
        self.localAddress = address
    }

    /// Serves every accepted connection with `serve` (given a connection id) until the calling
    /// task is cancelled, then stops and waits for the connections' tasks to end.
    func run(_ serve: @escaping @Sendable (Connection, Int) async -> Void) async throws {
        let acceptLoop = Task {
            try await serverChannel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        let id = nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue
                        group.addTask { await self.track(connection, id: id, serve) }
                    }
                }
            }
        }
        try await withTaskCancellationHandler {
            try await acceptLoop.value
        } onCancel: {
            stop()
        }
    }

    private func track(_ connection: Connection, id: Int, _ serve: @Sendable (Connection, Int) async -> Void) async {
        let stopping = registry.withLock { registry in
            registry.channels[id] = connection.channel
            return registry.isStopping
        }
        defer { registry.withLock { _ = $0.channels.removeValue(forKey: id) } }
        if stopping {
            connection.channel.close(promise: nil)
        }
        await serve(connection, id)
    }

    /// Stops accepting, closes every open connection, and closes any accepted later at once.
    func stop() {
        let channels = registry.withLock { registry in
            registry.isStopping = true
            return Array(registry.channels.values)
        }
        serverChannel.channel.close(promise: nil)
        for channel in channels { channel.close(promise: nil) }
    }

    /// Closes every open connection but keeps accepting (a blackhole starting).
    func dropOpenConnections() {
        let channels = registry.withLock { Array($0.channels.values) }
        for channel in channels { channel.close(promise: nil) }
    }
}
