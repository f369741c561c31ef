import NIOCore

/// One protocol a member supports (for consumers: an assignor such as `range`) with the
/// member's opaque metadata for it (for consumers: its subscription).
public struct GroupProtocol: Sendable, Equatable {
    public var name: String
    public var metadata: ByteBuffer
    public init(name: String, metadata: ByteBuffer) {
        self.name = name
        self.metadata = metadata
    }
}

/// A JoinGroup request (v0–v9 fields; the server fills what older versions lack).
public struct JoinRequest: Sendable {
    public var groupID: GroupID
    /// `MemberID.unknown` for a member joining for the first time.
    public var memberID: MemberID
    /// Set by static members (v5+).
    public var groupInstanceID: GroupInstanceID?
    /// The client id from the request header.
    public var clientID: String
    /// The client's address as the broker sees it (Kafka reports it as `/1.2.3.4`).
    public var clientHost: String
    public var sessionTimeout: Duration
    /// How long the coordinator waits for members to rejoin; for v0, pass `sessionTimeout`.
    /// Negative values count as zero.
    public var rebalanceTimeout: Duration
    public var protocolType: String
    /// In the member's order of preference.
    public var protocols: [GroupProtocol]
    /// True for JoinGroup v4+: a first join without a member id is answered with
    /// `MEMBER_ID_REQUIRED` and a fresh id instead of joining.
    public var requiresKnownMemberID: Bool

    public init(
        groupID: GroupID,
        memberID: MemberID = .unknown,
        groupInstanceID: GroupInstanceID? = nil,
        clientID: String,
        clientHost: String,
        sessionTimeout: Duration,
        rebalanceTimeout: Duration,
        protocolType: String,
        protocols: [GroupProtocol],
        requiresKnownMemberID: Bool
    ) {
        self.groupID = groupID
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.clientID = clientID
        self.clientHost = clientHost
        self.sessionTimeout = sessionTimeout
        self.rebalanceTimeout = rebalanceTimeout
        self.protocolType = protocolType
        self.protocols = protocols
        self.requiresKnownMemberID = requiresKnownMemberID
    }
}

/// One member's assignment in the leader's SyncGroup request.
public struct MemberAssignment: Sendable, Equatable {
    public var memberID: MemberID
    public var assignment: ByteBuffer
    public init(memberID: MemberID, assignment: ByteBuffer) {
        self.memberID = memberID
        self.assignment = assignment
    }
}

/// A SyncGroup request (v0–v5 fields).
public struct SyncRequest: Sendable {
    public var groupID: GroupID
    public var generationID: GenerationID
    public var memberID: MemberID
    /// Set by static members (v3+).
    public var groupInstanceID: GroupInstanceID?
    /// v5+ only; checked against the group's when present.
    public var protocolType: String?
    /// v5+ only; checked against the group's when present.
    public var protocolName: String?
    /// Sent by the leader; followers send none.
    public var assignments: [MemberAssignment]

    public init(
        groupID: GroupID,
        generationID: GenerationID,
        memberID: MemberID,
        groupInstanceID: GroupInstanceID? = nil,
        protocolType: String? = nil,
        protocolName: String? = nil,
        assignments: [MemberAssignment] = []
    ) {
        self.groupID = groupID
        self.generationID = generationID
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignments = assignments
    }
}

/// A member named in a LeaveGroup request: v0–v2 carry one member id; v3+ a batch, where an
/// empty member id with a group instance id removes that static member (an admin operation).
public struct LeavingMember: Sendable, Equatable {
    public var memberID: MemberID
    public var groupInstanceID: GroupInstanceID?
    public init(memberID: MemberID, groupInstanceID: GroupInstanceID? = nil) {
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
    }
}
