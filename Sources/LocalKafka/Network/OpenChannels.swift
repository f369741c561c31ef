import NIOCore
import Synchronization

/// The connections a server has open, so a blackhole or a stop can drop them all, and so a
/// connection accepted while the server stops is closed at once.
final class OpenChannels: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var isStopping = false
    }

    private let state = Mutex(State())

    /// Records `channel`; false (and the channel is closed) when the server is stopping.
    func add(_ channel: any Channel) -> Bool {
        let accepted = state.withLock { state in
            guard !state.isStopping else { return false }
            state.channels[ObjectIdentifier(channel)] = channel
            return true
        }
        if !accepted { channel.close(promise: nil) }
        return accepted
    }

    func remove(_ channel: any Channel) {
        state.withLock { _ = $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Closes every open connection; with `stopping`, also every connection accepted later.
    func closeAll(stopping: Bool) {
        let channels = state.withLock { state in
            if stopping { state.isStopping = true }
            return Array(state.channels.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }
}
