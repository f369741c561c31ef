import Consensus

/// The rule every data-plane action obeys (DESIGN.md §6.6): it acts for one epoch, and once an
/// action for some epoch has been admitted, an action for an older epoch is refused.
///
/// A deposed active site's agent may still hold a queued promotion, a flow restart or a group
/// commit from the epoch it lost; the epoch is the fencing token that stops those from landing
/// after a newer epoch has acted. Actions for the same epoch are admitted again and again, so
/// retrying an idempotent action after a crash is allowed.
public struct EpochFence: Sendable, Hashable {
    /// The newest epoch an action was admitted for, `nil` before the first.
    public private(set) var newest: Epoch?

    public init(newest: Epoch? = nil) { self.newest = newest }

    /// Admits an action for `epoch`, or throws when a newer epoch has already acted.
    /// - Throws: ``StaleEpoch`` naming both epochs and the action.
    public mutating func admit(_ epoch: Epoch, action: String) throws(StaleEpoch) {
        if let newest, epoch < newest { throw StaleEpoch(action: action, epoch: epoch, newest: newest) }
        newest = epoch
    }
}

/// An action refused because a newer epoch has already acted (see ``EpochFence``).
public struct StaleEpoch: Error, Hashable, Sendable, CustomStringConvertible {
    public var action: String
    public var epoch: Epoch
    public var newest: Epoch

    public init(action: String, epoch: Epoch, newest: Epoch) {
        self.action = action
        self.epoch = epoch
        self.newest = newest
    }

    public var description: String {
        "\(action) for epoch \(epoch.rawValue) refused: epoch \(newest.rawValue) has already acted; "
            + "this agent's view is out of date and the action belongs to a deposed configuration"
    }
}
