import Consensus
import Foundation
import Orchestrator

/// What `GET /v1/active` answers: the committed active site, how to reach its cluster, and
/// what applications must do now (`state`, see ``SidecarState``).
public struct ActiveAnswer: Codable, Hashable, Sendable {
    /// What a long-poll compares: it wakes when any of these changes.
    public struct Key: Hashable, Sendable {
        public var epoch: UInt64
        public var state: SidecarState
        public var servingHere: Bool
    }

    public var epoch: UInt64
    public var activeSite: String
    /// `bootstrap.servers` of the active site's cluster.
    public var bootstrapServers: [String]
    /// When this agent learned of this configuration (wall clock, ISO 8601).
    public var since: Date
    /// Whether this agent's own site serves as active right now (holds a valid lease).
    public var servingHere: Bool
    public var mirrorFrom: String
    public var mirrorTo: String
    /// `serving` (use `bootstrapServers`), `promoting` (wait), `switching` (stop producing,
    /// wait) or `fenced` (pause): see ``SidecarState``.
    public var state: SidecarState

    public init(
        epoch: UInt64, activeSite: String, bootstrapServers: [String], since: Date, servingHere: Bool,
        mirrorFrom: String, mirrorTo: String, state: SidecarState
    ) {
        self.epoch = epoch
        self.activeSite = activeSite
        self.bootstrapServers = bootstrapServers
        self.since = since
        self.servingHere = servingHere
        self.mirrorFrom = mirrorFrom
        self.mirrorTo = mirrorTo
        self.state = state
    }

    public var key: Key { Key(epoch: epoch, state: state, servingHere: servingHere) }
}
