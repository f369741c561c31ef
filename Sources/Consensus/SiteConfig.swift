import Sites

/// Which way the mirror copies: from the active site's cluster to a standby site's cluster.
public struct MirrorDirection: Hashable, Codable, Sendable, CustomStringConvertible {
    public var from: SiteID
    public var to: SiteID

    public init(from: SiteID, to: SiteID) {
        self.from = from
        self.to = to
    }

    public var description: String { "\(from)→\(to)" }
}

/// Why a site configuration was chosen; anti-flapping and the audit log depend on it.
public enum ConfigCause: String, Hashable, Codable, Sendable {
    /// The configuration every agent starts from (epoch 0, from the configuration file).
    case initial
    /// The active site was objectively down and the agents failed over on their own.
    case automaticFailover
    /// The original site was healthy long enough and policy allows returning to it.
    case automaticFailback
    /// The active site's agent re-confirmed itself in a new epoch after a failed election
    /// left voters at an epoch nobody committed (see `Election` for the liveness argument).
    case reaffirm
    /// An operator moved the active site while it was healthy (planned switchover).
    case operatorSwitchover
    /// An operator forced a failover, possibly overriding safety checks.
    case operatorFailover

    /// Whether this change was made by the agents on their own (and so starts a block period).
    public var isAutomatic: Bool { self == .automaticFailover || self == .automaticFailback }
}

/// The decision the election makes: in `epoch`, `activeSite` serves and the mirror runs
/// `mirrorDirection`.
///
/// A configuration is *committed* once a majority of voters stored it durably; only then
/// does any agent act on it. For one epoch there is at most one committed configuration.
public struct SiteConfig: Hashable, Codable, Sendable, CustomStringConvertible {
    public var epoch: Epoch
    public var activeSite: SiteID
    public var mirrorDirection: MirrorDirection
    public var cause: ConfigCause

    public init(epoch: Epoch, activeSite: SiteID, mirrorDirection: MirrorDirection, cause: ConfigCause) {
        self.epoch = epoch
        self.activeSite = activeSite
        self.mirrorDirection = mirrorDirection
        self.cause = cause
    }

    /// The configuration agents start from before any election: epoch 0, `activeSite` serving
    /// and mirroring to `standbySite`.
    public static func initial(activeSite: SiteID, standbySite: SiteID) -> SiteConfig {
        SiteConfig(
            epoch: .initial,
            activeSite: activeSite,
            mirrorDirection: MirrorDirection(from: activeSite, to: standbySite),
            cause: .initial
        )
    }

    public var description: String { "\(epoch) active=\(activeSite) mirror=\(mirrorDirection) (\(cause.rawValue))" }
}
