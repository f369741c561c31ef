import NIOCore

/// One member of a consumer group as the coordinator tracks it.
struct GroupMember: Sendable {
    var id: MemberID
    let groupInstanceID: GroupInstanceID?
    let clientID: String
    let clientHost: String
    var sessionTimeout: Duration
    var rebalanceTimeout: Duration
    let protocolType: String
    /// In the member's order of preference.
    var protocols: [GroupProtocol]
    /// The leader's assignment from the last completed SyncGroup; empty before that.
    var assignment: ByteBuffer = ByteBuffer()
    /// The member's JoinGroup that waits for the rebalance to complete.
    var parkedJoin: RequestToken?
    /// The member's SyncGroup that waits for the leader's assignments.
    var parkedSync: RequestToken?
    /// True until the member's first JoinGroup completes: it has no session to keep alive yet, so
    /// it expires after `newMemberJoinTimeout` whether or not it is waiting.
    var isNew: Bool = true
    /// When the member is removed unless it heartbeats (or is waiting in a rebalance) first.
    var sessionDeadline: ContinuousClock.Instant?

    var isStatic: Bool { groupInstanceID != nil }
    var isAwaitingJoin: Bool { parkedJoin != nil }

    init(id: MemberID, request: JoinRequest, parkedJoin: RequestToken?) {
        self.id = id
        self.groupInstanceID = request.groupInstanceID
        self.clientID = request.clientID
        self.clientHost = request.clientHost
        self.sessionTimeout = request.sessionTimeout
        self.rebalanceTimeout = max(request.rebalanceTimeout, .zero)
        self.protocolType = request.protocolType
        self.protocols = request.protocols
        self.parkedJoin = parkedJoin
    }

    func supports(_ protocolName: String) -> Bool {
        protocols.contains { $0.name == protocolName }
    }

    /// The member's metadata for `protocolName`; empty if it does not support it.
    func metadata(for protocolName: String?) -> ByteBuffer {
        guard let protocolName else { return ByteBuffer() }
        return protocols.first { $0.name == protocolName }?.metadata ?? ByteBuffer()
    }

    /// The member's most preferred protocol among `candidates` (Kafka's vote).
    func vote(among candidates: Set<String>) -> String? {
        protocols.first { candidates.contains($0.name) }?.name
    }

    /// True when a rejoin brings the same protocols and metadata, so no rebalance is needed.
    func matches(_ protocols: [GroupProtocol]) -> Bool {
        self.protocols == protocols
    }
}
