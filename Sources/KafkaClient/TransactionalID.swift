/// A producer's `transactional.id`: the identity Kafka's transaction coordinator keeps across
/// restarts of the producer. A new producer with the same id fences the previous one.
public struct TransactionalID: RawRepresentable, Hashable, Sendable, Comparable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: TransactionalID, rhs: TransactionalID) -> Bool { lhs.rawValue < rhs.rawValue }
}
