import Consensus

/// What this agent's site is doing with the data plane, for the sidecar and status pages.
public enum DataPlanePhase: Sendable, Hashable, CustomStringConvertible {
    /// This site is not the active one at `epoch`: it runs the flows into it, if any.
    case following(Epoch)
    /// This site became active at `epoch` and is still at `step` of its promotion.
    case promoting(Epoch, step: PromotionStep)
    /// A planned switchover or failback for `epoch` is at `step`.
    case switching(Epoch, step: String)
    /// This site serves as the active site at `epoch`: its promotion has finished.
    case serving(Epoch)

    /// Whether the promotion for `epoch` has finished here.
    public func isServing(_ epoch: Epoch) -> Bool {
        if case .serving(let served) = self { return served == epoch }
        return false
    }

    public var epoch: Epoch {
        switch self {
        case .following(let epoch), .promoting(let epoch, _), .switching(let epoch, _), .serving(let epoch): epoch
        }
    }

    public var description: String {
        switch self {
        case .following(let epoch): "following (\(epoch))"
        case .promoting(let epoch, let step): "promoting (\(epoch)): \(step)"
        case .switching(let epoch, let step): "switching (\(epoch)): \(step)"
        case .serving(let epoch): "serving (\(epoch))"
        }
    }
}
