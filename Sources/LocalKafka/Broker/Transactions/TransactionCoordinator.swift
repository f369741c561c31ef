import KafkaWire

/// The transaction coordinator of a single-node broker (KIP-98), as a state machine.
///
/// Each event validates the producer (transactional id, producer id, epoch) against what the
/// coordinator knows, moves the transaction through its phases and returns the actions the broker
/// must carry out: persist the state, write markers, make offsets visible. It does no I/O itself,
/// so every rule is testable without a broker; the broker reports back with `markersWritten`.
///
/// Rules kept from Kafka: one producer id per transactional id; InitProducerId bumps the epoch,
/// which fences older instances, and aborts a transaction the previous instance left open; a
/// transaction open longer than its `transaction.timeout.ms` is aborted with a bumped epoch (so
/// its producer is fenced too); only partitions added to the transaction may be written to.
public struct TransactionCoordinator: Sendable {
    /// Kafka's broker default `transaction.max.timeout.ms`: the longest timeout a producer may ask for.
    public static let maxTransactionTimeoutMs: Int32 = 900_000

    public private(set) var transactions: [TransactionalID: TransactionMetadata] = [:]

    public init() {}

    // MARK: Events from requests

    /// InitProducerId with a transactional id: the producer identity the new instance must use.
    ///
    /// - Parameter allocateProducerId: hands out a producer id never used before (for a new
    ///   transactional id, or when the epoch is exhausted).
    public mutating func initProducerId(
        _ id: TransactionalID, timeoutMs: Int32, now: ContinuousClock.Instant,
        allocateProducerId: () throws -> Int64
    ) -> TransactionStep<ProducerIdentity> {
        guard timeoutMs > 0, timeoutMs <= Self.maxTransactionTimeoutMs else {
            return .refused(.invalidTransactionTimeout,
                            "transaction.timeout.ms=\(timeoutMs) is outside 1...\(Self.maxTransactionTimeoutMs); lower the producer's transaction.timeout.ms")
        }
        guard var metadata = transactions[id] else {
            let producerId: Int64
            do {
                producerId = try allocateProducerId()
            } catch {
                return .refused(.kafkaStorageError, "cannot allocate a producer id for transactional id \(id): \(error)")
            }
            transactions[id] = TransactionMetadata(producer: ProducerIdentity(producerId: producerId, epoch: 0), timeoutMs: timeoutMs)
            return TransactionStep(result: .success(ProducerIdentity(producerId: producerId, epoch: 0)), actions: [.persist])
        }
        if metadata.phase.isPreparing {
            // Markers of the previous transaction are still owed (their write failed): retry them
            // and let the client retry too.
            return TransactionStep(result: .failure(.init(.concurrentTransactions, "transactional id \(id) is still completing its previous transaction; retry")),
                                   actions: markerActions(id, metadata))
        }
        var actions: [TransactionAction] = []
        let wasOpen = metadata.phase == .ongoing
        do {
            metadata.producer = try Self.bumped(metadata.producer, allocateProducerId: allocateProducerId)
        } catch {
            return .refused(.kafkaStorageError, "cannot allocate a producer id for transactional id \(id): \(error)")
        }
        metadata.timeoutMs = timeoutMs
        if wasOpen {
            // The previous instance left a transaction open: abort it under the new epoch, which
            // also fences the old instance on every partition it wrote to.
            metadata.phase = .prepareAbort
            metadata.pendingOffsets = [:]
            actions.append(.persist)
            actions += markerActions(id, metadata)
        } else {
            metadata.phase = .empty
            actions.append(.persist)
        }
        transactions[id] = metadata
        return TransactionStep(result: .success(metadata.producer), actions: actions)
    }

    /// AddPartitionsToTxn: opens the transaction if needed and adds `partitions` to it.
    public mutating func addPartitions(
        _ id: TransactionalID, producer: ProducerIdentity, partitions: [TransactionPartition], now: ContinuousClock.Instant
    ) -> TransactionStep<Void> {
        switch beginOrContinue(id, producer: producer, now: now) {
        case .failure(let refusal): return TransactionStep(result: .failure(refusal), actions: [])
        case .success(var metadata):
            let before = metadata
            metadata.partitions.formUnion(partitions)
            transactions[id] = metadata
            return TransactionStep(result: .success(()), actions: before == metadata ? [] : [.persist])
        }
    }

    /// AddOffsetsToTxn: opens the transaction if needed and adds the group to it.
    public mutating func addOffsets(
        _ id: TransactionalID, producer: ProducerIdentity, group: String, now: ContinuousClock.Instant
    ) -> TransactionStep<Void> {
        switch beginOrContinue(id, producer: producer, now: now) {
        case .failure(let refusal): return TransactionStep(result: .failure(refusal), actions: [])
        case .success(var metadata):
            let before = metadata
            metadata.groups.insert(group)
            transactions[id] = metadata
            return TransactionStep(result: .success(()), actions: before == metadata ? [] : [.persist])
        }
    }

    /// TxnOffsetCommit: remembers offsets that become the group's committed offsets on commit.
    public mutating func commitOffsets(
        _ id: TransactionalID, producer: ProducerIdentity, group: String, offsets: [CommittedOffset]
    ) -> TransactionStep<Void> {
        switch validate(id, producer: producer) {
        case .failure(let refusal): return TransactionStep(result: .failure(refusal), actions: [])
        case .success(var metadata):
            guard metadata.phase == .ongoing, metadata.groups.contains(group) else {
                return .refused(.invalidTxnState, "group \(group) was not added to the open transaction of \(id); call AddOffsetsToTxn first")
            }
            var pending = metadata.pendingOffsets[group] ?? []
            for offset in offsets {
                pending.removeAll { $0.topic == offset.topic && $0.partition == offset.partition }
                pending.append(offset)
            }
            metadata.pendingOffsets[group] = pending
            transactions[id] = metadata
            return TransactionStep(result: .success(()), actions: [.persist])
        }
    }

    /// EndTxn: commits or aborts the open transaction.
    public mutating func endTransaction(_ id: TransactionalID, producer: ProducerIdentity, commit: Bool) -> TransactionStep<Void> {
        switch validate(id, producer: producer) {
        case .failure(let refusal): return TransactionStep(result: .failure(refusal), actions: [])
        case .success(var metadata):
            switch (metadata.phase, commit) {
            case (.ongoing, _):
                metadata.phase = commit ? .prepareCommit : .prepareAbort
                if !commit { metadata.pendingOffsets = [:] }
                transactions[id] = metadata
                return TransactionStep(result: .success(()), actions: [.persist] + markerActions(id, metadata))
            case (.completeCommit, true), (.completeAbort, false):
                // A retry of an EndTxn whose answer was lost.
                return TransactionStep(result: .success(()), actions: [])
            case (.prepareCommit, true), (.prepareAbort, false):
                return TransactionStep(result: .failure(.init(.concurrentTransactions, "the transaction of \(id) is still completing; retry")),
                                       actions: markerActions(id, metadata))
            default:
                return .refused(.invalidTxnState,
                                "cannot \(commit ? "commit" : "abort") the transaction of \(id) in phase \(metadata.phase); begin a transaction and add partitions first")
            }
        }
    }

    /// Whether a transactional batch from `producer` may be appended to `partition`.
    public func checkProduce(_ id: TransactionalID, producer: ProducerIdentity, partition: TransactionPartition) -> TransactionRefusal? {
        switch validate(id, producer: producer) {
        case .failure(let refusal): return refusal
        case .success(let metadata):
            guard metadata.phase == .ongoing, metadata.partitions.contains(partition) else {
                return TransactionRefusal(.invalidTxnState, "\(partition) was not added to the open transaction of \(id); call AddPartitionsToTxn first")
            }
            return nil
        }
    }

    // MARK: Events from the broker

    /// The broker wrote every marker of `id`'s preparing transaction: complete it.
    public mutating func markersWritten(_ id: TransactionalID) -> [TransactionAction] {
        guard var metadata = transactions[id], metadata.phase.isPreparing else { return [] }
        metadata.phase = metadata.phase == .prepareCommit ? .completeCommit : .completeAbort
        metadata.partitions = []
        metadata.groups = []
        metadata.pendingOffsets = [:]
        metadata.startedAt = nil
        transactions[id] = metadata
        return [.persist]
    }

    /// Aborts (with a bumped epoch, fencing the producer) every transaction open longer than its timeout.
    public mutating func expire(now: ContinuousClock.Instant) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        for (id, var metadata) in transactions.sorted(by: { $0.key < $1.key }) where metadata.phase == .ongoing {
            guard let started = metadata.startedAt, now - started >= .milliseconds(Int64(metadata.timeoutMs)) else { continue }
            // At the last usable epoch no new producer id is allocated here: the producer keeps
            // its epoch, and its next EndTxn or produce meets INVALID_TXN_STATE instead of fencing.
            if metadata.producer.epoch < Int16.max - 1 { metadata.producer.epoch += 1 }
            metadata.phase = .prepareAbort
            metadata.pendingOffsets = [:]
            transactions[id] = metadata
            actions.append(.persist)
            actions += markerActions(id, metadata)
        }
        return actions
    }

    /// The earliest moment an open transaction times out, for the broker's timer.
    public func nextDeadline() -> ContinuousClock.Instant? {
        transactions.values.compactMap { metadata in
            metadata.phase == .ongoing ? metadata.startedAt.map { $0 + .milliseconds(Int64(metadata.timeoutMs)) } : nil
        }.min()
    }

    // MARK: Restart

    /// The coordinator after a restart, from its persisted state: open transactions are aborted
    /// (their producers may have written records the coordinator cannot account for) with a
    /// bumped epoch, and transactions caught preparing are completed.
    public static func restored(_ persisted: [TransactionalID: TransactionMetadata]) -> (TransactionCoordinator, [TransactionAction]) {
        var coordinator = TransactionCoordinator()
        coordinator.transactions = persisted
        var actions: [TransactionAction] = []
        for (id, var metadata) in persisted.sorted(by: { $0.key < $1.key }) {
            metadata.startedAt = nil
            switch metadata.phase {
            case .ongoing:
                if metadata.producer.epoch < Int16.max - 1 { metadata.producer.epoch += 1 }
                metadata.phase = .prepareAbort
                metadata.pendingOffsets = [:]
                coordinator.transactions[id] = metadata
                actions.append(.persist)
                actions += coordinator.markerActions(id, metadata)
            case .prepareCommit, .prepareAbort:
                actions += coordinator.markerActions(id, metadata)
            case .empty, .completeCommit, .completeAbort:
                break
            }
        }
        return (coordinator, actions)
    }

    // MARK: Rules

    private func validate(_ id: TransactionalID, producer: ProducerIdentity) -> Result<TransactionMetadata, TransactionRefusal> {
        guard let metadata = transactions[id] else {
            return .failure(.init(.invalidProducerIdMapping, "transactional id \(id) is unknown; call InitProducerId first"))
        }
        guard metadata.producer.producerId == producer.producerId else {
            return .failure(.init(.invalidProducerIdMapping,
                                  "transactional id \(id) belongs to producer id \(metadata.producer.producerId), not \(producer.producerId); call InitProducerId again"))
        }
        guard metadata.producer.epoch == producer.epoch else {
            // INVALID_PRODUCER_EPOCH is what v0-2 clients understand as "fenced" (PRODUCER_FENCED is v3+).
            return .failure(.init(.invalidProducerEpoch,
                                  "producer \(producer) of \(id) is fenced: epoch \(metadata.producer.epoch) is current; a newer instance of this producer exists"))
        }
        return .success(metadata)
    }

    private func beginOrContinue(_ id: TransactionalID, producer: ProducerIdentity, now: ContinuousClock.Instant)
        -> Result<TransactionMetadata, TransactionRefusal>
    {
        switch validate(id, producer: producer) {
        case .failure(let refusal): return .failure(refusal)
        case .success(var metadata):
            if metadata.phase.isPreparing {
                return .failure(.init(.concurrentTransactions, "the previous transaction of \(id) is still completing; retry"))
            }
            if metadata.phase != .ongoing {
                metadata.phase = .ongoing
                metadata.partitions = []
                metadata.groups = []
                metadata.pendingOffsets = [:]
                metadata.startedAt = now
            } else if metadata.startedAt == nil {
                metadata.startedAt = now
            }
            return .success(metadata)
        }
    }

    private func markerActions(_ id: TransactionalID, _ metadata: TransactionMetadata) -> [TransactionAction] {
        let commit = metadata.phase == .prepareCommit
        var actions: [TransactionAction] = [
            .writeMarkers(id, TransactionMarkers(producer: metadata.producer, commit: commit, partitions: metadata.partitions.sorted()))
        ]
        if commit {
            for (group, offsets) in metadata.pendingOffsets.sorted(by: { $0.key < $1.key }) where !offsets.isEmpty {
                actions.append(.commitOffsets(group: group, offsets: offsets))
            }
        }
        return actions
    }

    private static func bumped(_ producer: ProducerIdentity, allocateProducerId: () throws -> Int64) throws -> ProducerIdentity {
        // Kafka keeps the last epoch value in reserve; past it the id is replaced.
        if producer.epoch >= Int16.max - 1 {
            return ProducerIdentity(producerId: try allocateProducerId(), epoch: 0)
        }
        return ProducerIdentity(producerId: producer.producerId, epoch: producer.epoch + 1)
    }
}
