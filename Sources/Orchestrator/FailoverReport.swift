import Consensus
import Foundation

/// What one completed promotion cost (issue 9 item 8): the RPO and RTO of that failover, as
/// measured by the agent that did it, for its audit entry and alert.
public struct FailoverReport: Sendable, Hashable, Codable, CustomStringConvertible {
    public var epoch: UInt64
    public var fromSite: String
    public var toSite: String
    /// `live` (the old site answered) or `checkpoints` (it did not).
    public var positionedFrom: String
    /// Records the old site held that were not mirrored when the flow stopped, per source
    /// partition (`topic/partition`): from the source's last known log end and the flow's
    /// positions. What `reconcile` must recover when the old site returns.
    public var recordsAtRisk: [String: Int64]
    /// Records `reconcile` later copied from the returned site (filled in by it).
    public var recordsRecovered: Int64?
    /// Groups committed at this site.
    public var groupsPositioned: [String]
    /// Groups that could not be positioned, with the reason.
    public var groupsNotPositioned: [String: String]
    /// Seconds between each positioned group's checkpoint and its use (checkpoints only).
    public var checkpointAges: [String: Double]
    /// Seconds from this agent's first failed probe of the old site (or the commit, for a
    /// planned move) to serving with every group positioned.
    public var secondsToServing: Double

    public var recordsAtRiskTotal: Int64 { recordsAtRisk.values.reduce(0, +) }

    public var description: String {
        var parts = [
            "failover e\(epoch) \(fromSite)→\(toSite): serving with groups positioned \(String(format: "%.3f", secondsToServing)) s after the fault",
            "groups positioned from \(positionedFrom): \(groupsPositioned.count) [\(groupsPositioned.joined(separator: ", "))]",
            "records at risk (unmirrored at the fault): \(recordsAtRiskTotal)"
                + (recordsAtRisk.isEmpty ? "" : " {" + recordsAtRisk.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"),
        ]
        if let oldest = checkpointAges.values.max() { parts.append("oldest checkpoint used \(String(format: "%.1f", oldest)) s") }
        if !groupsNotPositioned.isEmpty {
            parts.append("NOT positioned: " + groupsNotPositioned.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: "; "))
        }
        if let recordsRecovered { parts.append("records recovered by reconcile: \(recordsRecovered)") }
        return parts.joined(separator: "; ")
    }
}
