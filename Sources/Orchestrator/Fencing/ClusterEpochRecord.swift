import Consensus
import Foundation
import Sites

/// The newest committed ``SiteConfig`` as one cluster records it in `__switchback_state`.
///
/// Every cluster carries the epoch itself, beside its data, so that whatever writes to it (a
/// flow, a checkpoint writer, a reconcile, a fence) can check that it acts for the newest
/// epoch even when it cannot reach the agents' majority: the epoch is the fencing token
/// (DESIGN.md §6.6), and this is where the token is kept on Kafka.
public struct ClusterEpochRecord: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The configuration committed for ``epoch``.
    public var config: SiteConfig
    /// The site whose agent wrote the record.
    public var recordedBy: SiteID
    public var recordedAt: Date

    public init(config: SiteConfig, recordedBy: SiteID, recordedAt: Date = Date()) {
        self.config = config
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }

    public var epoch: Epoch { config.epoch }

    public var description: String { "\(config) recorded by \(recordedBy)" }
}
