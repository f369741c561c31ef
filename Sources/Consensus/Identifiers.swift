import Sites

/// The identity of one voting agent: the agent of a site, or a witness.
public struct AgentID: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible, ExpressibleByStringLiteral
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static func < (lhs: AgentID, rhs: AgentID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// An election term and the fencing token of everything decided in it.
///
/// Epochs only move forward. Every message, lease and Kafka action carries the epoch it was
/// made in, and anything carrying an epoch older than the newest one an agent has seen is
/// refused: that is what keeps a deposed active site from acting after a new one was chosen.
public struct Epoch: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible
{
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// The epoch of the configuration every agent starts from.
    public static let initial = Epoch(0)

    /// The epoch after this one, or `nil` when the counter is exhausted (a peer that sent
    /// `UInt64.max` must not make this agent trap).
    public var next: Epoch? {
        let (value, overflow) = rawValue.addingReportingOverflow(1)
        return overflow ? nil : Epoch(value)
    }

    public static func < (lhs: Epoch, rhs: Epoch) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "e\(rawValue)" }
}
