import Consensus
import Sites

/// Where a promotion is (DESIGN.md §7: stop the flow, position the groups, then serve).
public enum PromotionStep: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Stopping the flow into this site, draining what the old site still serves.
    case stopFlow = "stop-flow"
    /// Committing the selected groups' positions at this site.
    case positionGroups = "position-groups"
    /// Writing the epoch into this site's `__switchback_state`.
    case recordEpoch = "record-epoch"
    /// Finished: this site serves.
    case serving
    /// Abandoned: a newer epoch superseded this one before it finished.
    case superseded

    public var description: String { rawValue }
}

/// Where the groups' positions come from.
public enum PositionSource: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Read live from the old active site and translated exactly (it is reachable).
    case live
    /// The flow's group checkpoints stored at this site (the old site is unreachable).
    case checkpoints

    public var description: String { rawValue }
}

/// The promotion of this agent's site to active for one epoch, as a state machine: each event
/// returns the next action; the caller performs it (with I/O) and reports the outcome.
///
/// The order is the safety argument: the flow into this site stops first (so nothing the old
/// site wrote lands after the groups are positioned), the groups are positioned next (so an
/// application never joins a group here before its position is here), the epoch is recorded
/// in this site's cluster, and only then does the site announce `serving`. Every action
/// carries the epoch; an outcome for another epoch is ignored, and ``supersede(by:)`` abandons
/// the promotion when a newer epoch is committed.
public struct Promotion: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// Stop the flow `from` → this site; drain within the timeout when `from` is reachable.
        case stopFlow(epoch: Epoch, from: SiteID, drain: Bool)
        /// Position the selected groups at this site from `source`.
        case positionGroups(epoch: Epoch, from: SiteID, source: PositionSource)
        /// Record `epoch` in this site's cluster.
        case recordEpoch(epoch: Epoch)
        /// Wait, then perform `retry` again (its step failed and may succeed later).
        indirect case retry(after: Duration, Action)
        /// Announce `serving` for `epoch`.
        case announceServing(epoch: Epoch)
        /// Nothing to do (an outcome for another epoch, or the promotion is over).
        case none

        fileprivate var epochOrNil: Epoch? {
            switch self {
            case .stopFlow(let epoch, _, _), .positionGroups(let epoch, _, _), .recordEpoch(let epoch),
                .announceServing(let epoch):
                epoch
            case .retry(_, let action): action.epochOrNil
            case .none: nil
            }
        }
    }

    public let epoch: Epoch
    /// The site that was active before `epoch`.
    public let oldSite: SiteID
    public private(set) var step: PromotionStep
    /// Where the groups' positions came from, once they are positioned.
    public private(set) var positionedFrom: PositionSource?
    /// How many times a step failed and was retried.
    public private(set) var retries = 0
    /// The longest wait between retries of a failed step.
    public let maxBackoff: Duration

    public init(epoch: Epoch, oldSite: SiteID, maxBackoff: Duration = .seconds(2)) {
        self.epoch = epoch
        self.oldSite = oldSite
        self.step = .stopFlow
        self.maxBackoff = maxBackoff
    }

    /// The first action: stop the flow, draining when the old site is reachable.
    public func start(oldSiteReachable: Bool) -> Action {
        .stopFlow(epoch: epoch, from: oldSite, drain: oldSiteReachable)
    }

    /// The first action when a planned switchover already stopped the flow (drained) and
    /// positioned the groups exactly from live offsets under the previous epoch: record the
    /// epoch, then serve.
    public mutating func startPrepared() -> Action {
        guard step == .stopFlow else { return .none }
        positionedFrom = .live
        step = .recordEpoch
        return .recordEpoch(epoch: epoch)
    }

    /// The flow into this site has stopped; `drained` says whether it copied everything the
    /// old site still held (so the old site was reachable and live positions are exact).
    public mutating func flowStopped(epoch: Epoch, drained: Bool) -> Action {
        guard epoch == self.epoch, step == .stopFlow else { return .none }
        step = .positionGroups
        return .positionGroups(epoch: epoch, from: oldSite, source: drained ? .live : .checkpoints)
    }

    /// The groups are positioned at this site.
    public mutating func groupsPositioned(epoch: Epoch, from source: PositionSource) -> Action {
        guard epoch == self.epoch, step == .positionGroups else { return .none }
        positionedFrom = source
        step = .recordEpoch
        return .recordEpoch(epoch: epoch)
    }

    /// Positioning failed: live positions fall back to checkpoints (the old site went away
    /// meanwhile); checkpoints are retried (this site's own cluster did not answer).
    public mutating func positioningFailed(epoch: Epoch, source: PositionSource) -> Action {
        guard epoch == self.epoch, step == .positionGroups else { return .none }
        if source == .live { return .positionGroups(epoch: epoch, from: oldSite, source: .checkpoints) }
        return retry(.positionGroups(epoch: epoch, from: oldSite, source: .checkpoints))
    }

    /// The epoch is in this site's `__switchback_state`; the site may serve.
    public mutating func epochRecorded(epoch: Epoch) -> Action {
        guard epoch == self.epoch, step == .recordEpoch else { return .none }
        step = .serving
        return .announceServing(epoch: epoch)
    }

    /// Recording the epoch failed (this site's cluster did not answer): retry.
    public mutating func recordingFailed(epoch: Epoch) -> Action {
        guard epoch == self.epoch, step == .recordEpoch else { return .none }
        return retry(.recordEpoch(epoch: epoch))
    }

    /// A newer epoch was committed: this promotion must not act any more.
    public mutating func supersede(by newer: Epoch) -> Action {
        guard newer > epoch, step != .serving else { return .none }
        step = .superseded
        return .none
    }

    /// Whether `action` still belongs to this promotion (not superseded, same epoch).
    public func admits(_ action: Action) -> Bool {
        step != .superseded && step != .serving && action.epochOrNil == epoch
    }

    private mutating func retry(_ action: Action) -> Action {
        retries += 1
        let backoff = min(Duration.milliseconds(100) * (1 << min(retries - 1, 10)), maxBackoff)
        return .retry(after: backoff, action)
    }
}
