import Synchronization

/// Raised by one task, watched by another.
public final class Flag: Sendable {
    private let raised = Atomic(false)
    public init() {}
    public func set() { raised.store(true, ordering: .releasing) }
    public var isSet: Bool { raised.load(ordering: .acquiring) }
}
