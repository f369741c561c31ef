import Consensus
import Sites

/// What a reconcile found and copied: per partition of the returned site, the stretch of its
/// log that was never mirrored and how many of its records went to the active site.
///
/// This is the "records recovered" half of a failover's RPO report (issue 9 §8); it goes into
/// the audit log and the alert of the reconcile step.
public struct ReconcileReport: Codable, Hashable, Sendable, CustomStringConvertible {
    public struct PartitionResult: Codable, Hashable, Sendable, CustomStringConvertible {
        /// The topic at the returned site, and its copy's name at the active site.
        public var topic: String
        public var partition: Int32
        public var targetTopic: String
        /// The unmirrored stretch of source offsets this run looked at: from after the last
        /// mirrored (or already recovered) record up to the log end recorded at fencing.
        public var from: Int64
        public var to: Int64
        /// Records copied by this run (in a plan: that would be copied).
        public var count: Int
        public var firstSourceOffset: Int64?
        public var lastSourceOffset: Int64?
        /// Records of the stretch that were born at the active site (copies of its records),
        /// which are never copied back.
        public var skippedBornAtTarget: Int
        /// Records an earlier (interrupted) run already recovered; not copied again.
        public var alreadyRecovered: Int

        public var description: String {
            let range = firstSourceOffset.map { "source offsets \($0)…\(lastSourceOffset ?? $0)" } ?? "nothing"
            return "\(topic)/\(partition) → \(targetTopic): \(count) record(s), \(range) (stretch \(from)..<\(to); "
                + "\(alreadyRecovered) recovered earlier, \(skippedBornAtTarget) born at the target)"
        }
    }

    public var epoch: Epoch
    /// The returned site whose unmirrored records were looked for.
    public var source: SiteID
    /// The active site they were copied to.
    public var target: SiteID
    /// Whether this is a plan (nothing was copied).
    public var dryRun: Bool
    public var partitions: [PartitionResult]

    /// Records copied by this run, over every partition.
    public var recoveredCount: Int { partitions.reduce(0) { $0 + $1.count } }

    public var description: String {
        let head = dryRun
            ? "DRY RUN: \(recoveredCount) unmirrored record(s) of \(source) would be copied to \(target) at \(epoch)"
            : "reconciled \(recoveredCount) unmirrored record(s) of \(source) into \(target) at \(epoch)"
        return ([head] + partitions.filter { $0.count > 0 || $0.alreadyRecovered > 0 }.map { "  \($0)" }).joined(separator: "\n")
    }
}
