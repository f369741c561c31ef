/// Limits and delays of the group coordinator. Every field has a documented default.
public struct GroupCoordinatorConfiguration: Sendable {
    /// Smallest session timeout a member may ask for (Kafka's `group.min.session.timeout.ms`).
    public var minSessionTimeout: Duration
    /// Largest session timeout a member may ask for (Kafka's `group.max.session.timeout.ms`).
    public var maxSessionTimeout: Duration
    /// How long the first rebalance of an empty group waits for more members before completing
    /// (Kafka's `group.initial.rebalance.delay.ms`, 3 s there). Each member that joins during
    /// the delay extends it by the same amount, up to the rebalance timeout. Zero lets the first
    /// member's JoinGroup complete at once.
    public var initialRebalanceDelay: Duration
    /// How long a new member's first JoinGroup may stay parked before the member is dropped
    /// (Kafka's fixed 5 minutes): it has no member id yet, so it cannot heartbeat.
    public var newMemberJoinTimeout: Duration

    public init(
        minSessionTimeout: Duration = .seconds(6),
        maxSessionTimeout: Duration = .seconds(30 * 60),
        initialRebalanceDelay: Duration = .zero,
        newMemberJoinTimeout: Duration = .seconds(5 * 60)
    ) {
        self.minSessionTimeout = minSessionTimeout
        self.maxSessionTimeout = maxSessionTimeout
        self.initialRebalanceDelay = initialRebalanceDelay
        self.newMemberJoinTimeout = newMemberJoinTimeout
    }
}
