import Consensus
import Foundation
import Synchronization

/// What `GET /v1/active` answers: the committed active site and how to reach its cluster.
public struct ActiveAnswer: Codable, Hashable, Sendable {
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

    public init(
        epoch: UInt64, activeSite: String, bootstrapServers: [String], since: Date, servingHere: Bool,
        mirrorFrom: String, mirrorTo: String
    ) {
        self.epoch = epoch
        self.activeSite = activeSite
        self.bootstrapServers = bootstrapServers
        self.since = since
        self.servingHere = servingHere
        self.mirrorFrom = mirrorFrom
        self.mirrorTo = mirrorTo
    }
}
