/// The plans of several consumer groups across one flow, with totals: what
/// `switchback offsets translate --dry-run` prints and a runbook step records.
public struct TranslationReport: Hashable, Sendable, CustomStringConvertible {
    /// One plan per group, sorted by group.
    public let plans: [GroupTranslationPlan]

    public init(plans: [GroupTranslationPlan]) {
        self.plans = plans.sorted { $0.group < $1.group }
    }

    /// Partitions that will be committed, over all groups.
    public var commitCount: Int { plans.reduce(0) { $0 + $1.commits.count } }
    /// Partitions skipped, over all groups.
    public var skipCount: Int { plans.reduce(0) { $0 + $1.entries.count - $1.commits.count } }
    /// Records at risk, over all groups (offsets consumed at the origin that the destination lacks).
    public var recordsAtRisk: Int64 { plans.reduce(0) { $0 &+ $1.recordsAtRisk } }
    /// Groups with at least one partition beyond the mirrored data.
    public var groupsWithDataAtRisk: [ConsumerGroupID] { plans.filter { $0.recordsAtRisk > 0 }.map(\.group) }

    public var description: String {
        var lines = ["\(Set(plans.map(\.group)).count) group(s): \(commitCount) partition(s) to commit, \(skipCount) skipped"]
        if recordsAtRisk > 0 {
            lines[0] += " — DATA AT RISK: \(recordsAtRisk) record(s) in "
                + groupsWithDataAtRisk.map(\.rawValue).joined(separator: ", ")
        }
        for plan in plans { lines.append(""); lines.append(plan.description) }
        return lines.joined(separator: "\n")
    }
}
