/// The name of a consumer group, as clients send it in `group_id`.
public struct GroupID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public static func < (lhs: GroupID, rhs: GroupID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// A member of a group as the coordinator names it (`clientId-UUID`); empty for "not yet known".
public struct MemberID: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The id a member sends before the coordinator has given it one (Kafka's `UNKNOWN_MEMBER_ID`).
    public static let unknown = MemberID("")
    public var isUnknown: Bool { rawValue.isEmpty }
    public var description: String { rawValue }
}

/// A static member's user-given identity (`group.instance.id`), stable across restarts.
public struct GroupInstanceID: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

/// A group generation: incremented each time a rebalance completes.
public struct GenerationID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    /// What error responses carry, and what standalone offset commits send (Kafka's `-1`).
    public static let unknown = GenerationID(-1)
    public static func < (lhs: GenerationID, rhs: GenerationID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }

    /// The generation after this one; wraps to 1 rather than trapping or going negative, because
    /// negative generations mean "not using group management" on the wire.
    var next: GenerationID { rawValue == .max ? GenerationID(1) : GenerationID(rawValue + 1) }
}

/// An opaque handle the server attaches to a JoinGroup or SyncGroup request so that the answer,
/// which may come from a later call, can be routed back to the waiting connection.
///
/// - Important: The server must give every request its own token and must not reuse one until
///   that request's completion has been returned (each token completes exactly once).
public struct RequestToken: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(rawValue)" }
}
