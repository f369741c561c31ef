import Consensus
import Sites

/// What an application that follows the sidecar (`GET /v1/active`) must do now
/// (contract in DESIGN.md §8): use the active site, wait, stop producing, or pause.
public enum SidecarState: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `activeSite` serves at `epoch`: its groups are positioned; apps use `bootstrapServers`.
    case serving
    /// A new epoch is committed and the new active site is still stopping the flow into it or
    /// positioning groups: apps must not (re)create clients yet.
    case promoting
    /// A planned switchover or failback is in progress: apps stop producing and wait.
    case switching
    /// No active site can be confirmed from here (this site lost its lease, or this agent
    /// cannot reach a majority or the active site's agent): apps pause.
    case fenced

    public var description: String { rawValue }
}

/// The inputs of one sidecar answer, read at one instant, and the rule that turns them into a
/// ``SidecarState``. A value type so the rule is tested without agents.
public struct SidecarView: Sendable, Hashable {
    /// What the active site's own agent announced, as heard by another agent.
    public struct Announcement: Sendable, Hashable {
        public var epoch: Epoch
        public var state: SidecarState
        public var servingHere: Bool

        public init(epoch: Epoch, state: SidecarState, servingHere: Bool) {
            self.epoch = epoch
            self.state = state
            self.servingHere = servingHere
        }
    }

    /// The committed configuration this agent holds.
    public var committed: SiteConfig
    /// This agent's site; `nil` for a witness.
    public var ownSite: SiteID?
    /// Whether this agent's site holds the lease for `committed` right now.
    public var servingHere: Bool
    /// Whether this agent hears a majority of voters (itself included).
    public var hasMajority: Bool
    /// The data-plane phase of this agent's site for `committed.epoch`.
    public var phase: DataPlanePhase
    /// The active site's agent's latest answer, fresh enough to trust; `nil` when this agent is
    /// the active site's or has not heard it recently.
    public var announcement: Announcement?

    public init(
        committed: SiteConfig, ownSite: SiteID?, servingHere: Bool, hasMajority: Bool, phase: DataPlanePhase,
        announcement: Announcement?
    ) {
        self.committed = committed
        self.ownSite = ownSite
        self.servingHere = servingHere
        self.hasMajority = hasMajority
        self.phase = phase
        self.announcement = announcement
    }

    /// The state to answer.
    ///
    /// At the active site: `switching` while a planned move runs, `promoting` until the
    /// promotion for the committed epoch has finished, `fenced` without the lease, else
    /// `serving`. Elsewhere the active site's own answer for the same epoch is repeated, so a
    /// sidecar at any site says `serving` only once the active site has positioned its groups;
    /// without a majority or without a fresh answer from the active site, `fenced`; an answer
    /// for another epoch than this agent holds means a move not adopted everywhere yet, so
    /// `promoting`.
    public var state: SidecarState {
        if case .switching = phase { return .switching }
        if let ownSite, ownSite == committed.activeSite {
            guard phase.isServing(committed.epoch) else { return .promoting }
            return servingHere ? .serving : .fenced
        }
        guard hasMajority, let announcement else { return .fenced }
        // Newer: a move this agent has not adopted yet; older: the active site's agent has not
        // adopted this one yet. Either way the active site is not confirmed serving.
        guard announcement.epoch == committed.epoch else { return .promoting }
        if announcement.state == .serving && !announcement.servingHere { return .fenced }
        return announcement.state
    }
}
