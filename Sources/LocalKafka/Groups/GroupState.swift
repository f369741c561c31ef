/// Where a group is in its rebalance cycle, named as Kafka reports it in DescribeGroups and
/// ListGroups.
public enum GroupState: String, Sendable, Hashable, CaseIterable {
    /// No members (offsets may still be committed standalone).
    case empty = "Empty"
    /// Waiting for members to (re)join; JoinGroup requests are parked.
    case preparingRebalance = "PreparingRebalance"
    /// Joins answered; waiting for the leader's assignments; followers' SyncGroups are parked.
    case completingRebalance = "CompletingRebalance"
    /// Assignments distributed; members heartbeat.
    case stable = "Stable"
    /// The group does not exist (never created, or deleted).
    case dead = "Dead"
}
