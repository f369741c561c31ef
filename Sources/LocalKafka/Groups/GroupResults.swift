import NIOCore

/// A member as the leader sees it in its JoinGroup response.
public struct JoinedMember: Sendable, Equatable {
    public var memberID: MemberID
    public var groupInstanceID: GroupInstanceID?
    /// The member's metadata for the selected protocol.
    public var metadata: ByteBuffer

    public init(memberID: MemberID, groupInstanceID: GroupInstanceID?, metadata: ByteBuffer) {
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.metadata = metadata
    }
}

/// The answer to a JoinGroup request.
public struct JoinResult: Sendable, Equatable {
    public var errorCode: GroupErrorCode
    /// `GenerationID.unknown` on error.
    public var generationID: GenerationID
    /// Wire field only in v7+; nil on error.
    public var protocolType: String?
    /// Nil on error; v0–v6 put an empty string on the wire instead.
    public var protocolName: String?
    /// Empty on error.
    public var leader: MemberID
    /// The member's id: the new one for a first join (also with `MEMBER_ID_REQUIRED`).
    public var memberID: MemberID
    /// Every member with its metadata, only in the leader's response (empty for followers).
    public var members: [JoinedMember]

    public init(errorCode: GroupErrorCode, generationID: GenerationID, protocolType: String?, protocolName: String?, leader: MemberID, memberID: MemberID, members: [JoinedMember]) {
        self.errorCode = errorCode
        self.generationID = generationID
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.leader = leader
        self.memberID = memberID
        self.members = members
    }

    /// A response carrying only an error, as Kafka builds them.
    public static func failure(memberID: MemberID, _ errorCode: GroupErrorCode) -> JoinResult {
        JoinResult(
            errorCode: errorCode, generationID: .unknown, protocolType: nil, protocolName: nil,
            leader: .unknown, memberID: memberID, members: [])
    }
}

/// The answer to a SyncGroup request.
public struct SyncResult: Sendable, Equatable {
    public var errorCode: GroupErrorCode
    /// Wire field only in v5+.
    public var protocolType: String?
    /// Wire field only in v5+.
    public var protocolName: String?
    /// The leader's assignment for this member; empty on error.
    public var assignment: ByteBuffer

    public init(errorCode: GroupErrorCode, protocolType: String?, protocolName: String?, assignment: ByteBuffer) {
        self.errorCode = errorCode
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignment = assignment
    }

    public static func failure(_ errorCode: GroupErrorCode) -> SyncResult {
        SyncResult(errorCode: errorCode, protocolType: nil, protocolName: nil, assignment: ByteBuffer())
    }
}

/// The answer to a JoinGroup or SyncGroup request, for the request that carried `token`.
public struct GroupCompletion: Sendable, Equatable {
    public enum Response: Sendable, Equatable {
        case join(JoinResult)
        case sync(SyncResult)
    }
    public var token: RequestToken
    public var response: Response

    public init(token: RequestToken, response: Response) {
        self.token = token
        self.response = response
    }
}

/// One member's outcome in a LeaveGroup response.
public struct MemberLeaveResult: Sendable, Equatable {
    public var memberID: MemberID
    public var groupInstanceID: GroupInstanceID?
    public var errorCode: GroupErrorCode

    public init(memberID: MemberID, groupInstanceID: GroupInstanceID?, errorCode: GroupErrorCode) {
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.errorCode = errorCode
    }
}

/// The answer to a LeaveGroup request, plus parked requests the departure completed.
public struct LeaveOutcome: Sendable, Equatable {
    /// The top-level error code. For LeaveGroup v0–v2 the server puts the first non-`none`
    /// member error here when this is `none` (the wire has no member list before v3).
    public var errorCode: GroupErrorCode
    /// One entry per leaving member, in request order.
    public var members: [MemberLeaveResult]
    /// Answers to other connections' parked JoinGroup/SyncGroup requests.
    public var completions: [GroupCompletion]

    public init(errorCode: GroupErrorCode, members: [MemberLeaveResult], completions: [GroupCompletion]) {
        self.errorCode = errorCode
        self.members = members
        self.completions = completions
    }

    /// The error code a LeaveGroup v0–v2 response carries.
    public var singleMemberErrorCode: GroupErrorCode {
        if errorCode != .none { return errorCode }
        return members.first(where: { $0.errorCode != .none })?.errorCode ?? .none
    }
}

/// A member as DescribeGroups reports it.
public struct DescribedMember: Sendable, Equatable {
    public var memberID: MemberID
    public var groupInstanceID: GroupInstanceID?
    public var clientID: String
    public var clientHost: String
    /// Metadata for the selected protocol; empty unless the group is Stable (as Kafka).
    public var metadata: ByteBuffer
    /// The member's assignment; empty unless the group is Stable (as Kafka).
    public var assignment: ByteBuffer

    public init(memberID: MemberID, groupInstanceID: GroupInstanceID?, clientID: String, clientHost: String, metadata: ByteBuffer, assignment: ByteBuffer) {
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.clientID = clientID
        self.clientHost = clientHost
        self.metadata = metadata
        self.assignment = assignment
    }
}

/// A group as DescribeGroups reports it. An unknown group is reported as `Dead` with no
/// members and error `none`, as Kafka does.
public struct GroupDescription: Sendable, Equatable {
    public var errorCode: GroupErrorCode
    public var groupID: GroupID
    public var state: GroupState
    /// Empty if none.
    public var protocolType: String
    /// The selected protocol while Stable; empty otherwise (Kafka's `ProtocolData`).
    public var protocolName: String
    public var members: [DescribedMember]
    /// The current generation; not on the wire, for logs and tests.
    public var generationID: GenerationID

    public init(errorCode: GroupErrorCode, groupID: GroupID, state: GroupState, protocolType: String, protocolName: String, members: [DescribedMember], generationID: GenerationID) {
        self.errorCode = errorCode
        self.groupID = groupID
        self.state = state
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.members = members
        self.generationID = generationID
    }
}

/// A group as ListGroups reports it.
public struct GroupListing: Sendable, Equatable {
    public var groupID: GroupID
    /// Empty for groups that only hold standalone offset commits.
    public var protocolType: String
    /// Wire field in v4+.
    public var state: GroupState

    public init(groupID: GroupID, protocolType: String, state: GroupState) {
        self.groupID = groupID
        self.protocolType = protocolType
        self.state = state
    }
}
