/// Where a transactional id's current transaction stands (Kafka's TransactionState, without the
/// states a multi-broker coordinator needs).
public enum TransactionPhase: String, Sendable, Codable {
    /// No transaction open: after InitProducerId, or after the last one completed.
    case empty
    /// Partitions or a group were added: the transaction is open.
    case ongoing
    /// EndTxn(commit) accepted; commit markers are being written.
    case prepareCommit
    /// EndTxn(abort), a timeout or a fencing InitProducerId; abort markers are being written.
    case prepareAbort
    case completeCommit
    case completeAbort

    var isPreparing: Bool { self == .prepareCommit || self == .prepareAbort }
}

/// What the coordinator knows about one transactional id; persisted on every phase change.
public struct TransactionMetadata: Sendable, Equatable, Codable {
    public var producer: ProducerIdentity
    /// `transaction.timeout.ms` the producer asked for in InitProducerId.
    public var timeoutMs: Int32
    public var phase: TransactionPhase
    /// The partitions of the open (or preparing) transaction.
    public var partitions: Set<TransactionPartition>
    /// Consumer groups added with AddOffsetsToTxn.
    public var groups: Set<String>
    /// Offsets sent with TxnOffsetCommit, per group; visible to the group only on commit.
    public var pendingOffsets: [String: [CommittedOffset]]
    /// When the open transaction began (its first AddPartitions/AddOffsets); not persisted, since
    /// a restart aborts every open transaction.
    public var startedAt: ContinuousClock.Instant?

    enum CodingKeys: String, CodingKey {
        case producer, timeoutMs, phase, partitions, groups, pendingOffsets
    }

    init(producer: ProducerIdentity, timeoutMs: Int32) {
        self.producer = producer
        self.timeoutMs = timeoutMs
        self.phase = .empty
        self.partitions = []
        self.groups = []
        self.pendingOffsets = [:]
        self.startedAt = nil
    }
}
