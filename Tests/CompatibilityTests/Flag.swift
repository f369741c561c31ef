import Synchronization

/// Raised by one task, watched by another.
final class Flag: Sendable {
    private let raised = Mutex(false)
    func set() { raised.withLock { $0 = true } }
    var isSet: Bool { raised.withLock { $0 } }
}
