/// The Kafka error codes the group coordinator answers with, with their wire values.
///
/// The raw values are Kafka's `int16` error codes, so the server maps them to the protocol's
/// error code type 1:1 (`KafkaErrorCode(rawValue: code.rawValue)`).
public enum GroupErrorCode: Int16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case none = 0
    case unknownServerError = -1
    case coordinatorNotAvailable = 15
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupID = 24
    case unknownMemberID = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case nonEmptyGroup = 68
    case groupIDNotFound = 69
    case memberIDRequired = 79
    case fencedInstanceID = 82

    /// Kafka's name for the code, as clients print it.
    public var name: String {
        switch self {
        case .none: "NONE"
        case .unknownServerError: "UNKNOWN_SERVER_ERROR"
        case .coordinatorNotAvailable: "COORDINATOR_NOT_AVAILABLE"
        case .illegalGeneration: "ILLEGAL_GENERATION"
        case .inconsistentGroupProtocol: "INCONSISTENT_GROUP_PROTOCOL"
        case .invalidGroupID: "INVALID_GROUP_ID"
        case .unknownMemberID: "UNKNOWN_MEMBER_ID"
        case .invalidSessionTimeout: "INVALID_SESSION_TIMEOUT"
        case .rebalanceInProgress: "REBALANCE_IN_PROGRESS"
        case .nonEmptyGroup: "NON_EMPTY_GROUP"
        case .groupIDNotFound: "GROUP_ID_NOT_FOUND"
        case .memberIDRequired: "MEMBER_ID_REQUIRED"
        case .fencedInstanceID: "FENCED_INSTANCE_ID"
        }
    }

    /// What went wrong and what the client is expected to do about it.
    public var message: String {
        switch self {
        case .none: "no error"
        case .unknownServerError: "the coordinator failed unexpectedly; retry the request"
        case .coordinatorNotAvailable: "the group is being removed; find the coordinator again and rejoin"
        case .illegalGeneration: "the generation is not the group's current one; rejoin the group"
        case .inconsistentGroupProtocol:
            "the protocol type or protocols do not match the group's; use the same partition assignment strategy as the other members"
        case .invalidGroupID: "the group id is empty; configure a non-empty group.id"
        case .unknownMemberID: "the coordinator does not know this member id; rejoin with an empty member id"
        case .invalidSessionTimeout:
            "session.timeout.ms is outside the broker's allowed range; choose a value inside it"
        case .rebalanceInProgress: "the group is rebalancing; rejoin the group"
        case .nonEmptyGroup: "the group still has members; stop its consumers before deleting it"
        case .groupIDNotFound: "no such group"
        case .memberIDRequired: "the coordinator assigned a member id; send JoinGroup again with it"
        case .fencedInstanceID:
            "another consumer with the same group.instance.id replaced this one; give each instance a unique id"
        }
    }

    public var description: String { "\(name) (\(rawValue)): \(message)" }
}
