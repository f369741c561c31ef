/// A producer's `transactional.id`: the identity a transaction coordinator keeps across
/// producer restarts (one producer id per transactional id, fenced by epoch).
public struct TransactionalID: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public static func < (lhs: TransactionalID, rhs: TransactionalID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// A producer instance as the coordinator and the partitions know it: id and epoch. A higher
/// epoch of the same id fences every older instance.
public struct ProducerIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    public var producerId: Int64
    public var epoch: Int16
    public init(producerId: Int64, epoch: Int16) {
        self.producerId = producerId
        self.epoch = epoch
    }
    public var description: String { "\(producerId)/\(epoch)" }
}

/// A topic partition a transaction writes to.
public struct TransactionPartition: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition) }
    public var description: String { "\(topic)-\(partition)" }
}
