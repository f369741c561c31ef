/// Who last switched maintenance mode, and how: the newest mark wins everywhere.
///
/// Maintenance is switched at one agent (through the operator API) and spreads by heartbeat,
/// so a stamp orders concurrent switches: the higher `stamp` wins, ties broken by agent ID.
public struct MaintenanceMark: Hashable, Codable, Sendable {
    public var enabled: Bool
    public var stamp: UInt64
    public var by: AgentID?

    public init(enabled: Bool, stamp: UInt64, by: AgentID?) {
        self.enabled = enabled
        self.stamp = stamp
        self.by = by
    }

    /// Maintenance off, never switched.
    public static let off = MaintenanceMark(enabled: false, stamp: 0, by: nil)

    /// Whether `self` supersedes `other`.
    public func isNewer(than other: MaintenanceMark) -> Bool {
        if stamp != other.stamp { return stamp > other.stamp }
        return (by?.rawValue ?? "") > (other.by?.rawValue ?? "")
    }
}

/// What an agent must remember across restarts, written with fsync before it answers anyone.
///
/// Why each field is durable:
/// - `currentEpoch` and `votedFor`: a restarted voter that forgot its vote could vote twice in
///   one epoch and let two candidates win it.
/// - `committed`: the newest configuration known to be on a majority; forgetting it could let
///   an agent act on an older one.
/// - `accepted`: a configuration this voter stored for a leader that had not yet reported a
///   majority; it counts toward that majority, so it must survive a restart.
/// - `maintenance` and `acknowledgedEpoch`: operator decisions; a restart must not silently
///   resume automation the operator paused or re-block what they acknowledged.
/// - `longestLeaseGranted`: a restarted voter reports it as still running in its first votes,
///   even if its own lease setting became shorter across the restart.
/// - `votedForAnotherIn`: a voter that voted for another candidate above its committed epoch
///   stays bound by that vote after its own later candidacy fails (see `abandonedOwnElection`).
public struct ElectionState: Hashable, Codable, Sendable {
    public var currentEpoch: Epoch
    /// The candidate this agent voted for in `currentEpoch`, if any.
    public var votedFor: AgentID?
    public var committed: SiteConfig
    public var accepted: SiteConfig?
    public var maintenance: MaintenanceMark
    /// The newest automatic change whose block period an operator acknowledged.
    public var acknowledgedEpoch: Epoch
    /// The longest lease this voter ever granted (absent in files written before leases
    /// carried their duration): a restarted voter assumes it granted that long just now.
    public var longestLeaseGranted: Duration?
    /// The newest epoch above `committed` in which this agent voted for another candidate or
    /// stored another leader's configuration (absent in files written before; cleared once a
    /// configuration at least that new is committed).
    public var votedForAnotherIn: Epoch?

    public init(
        currentEpoch: Epoch,
        votedFor: AgentID?,
        committed: SiteConfig,
        accepted: SiteConfig? = nil,
        maintenance: MaintenanceMark = .off,
        acknowledgedEpoch: Epoch = .initial,
        longestLeaseGranted: Duration? = nil
    ) {
        self.currentEpoch = currentEpoch
        self.votedFor = votedFor
        self.committed = committed
        self.accepted = accepted
        self.maintenance = maintenance
        self.acknowledgedEpoch = acknowledgedEpoch
        self.longestLeaseGranted = longestLeaseGranted
    }

    /// The state of an agent that has never run: the configured initial site configuration.
    public static func initial(_ config: SiteConfig) -> ElectionState {
        ElectionState(currentEpoch: config.epoch, votedFor: nil, committed: config)
    }
}
