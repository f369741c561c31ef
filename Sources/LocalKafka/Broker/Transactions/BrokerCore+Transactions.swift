import KafkaWire
import NIOCore

/// The transaction APIs: InitProducerId with a transactional id, AddPartitionsToTxn,
/// AddOffsetsToTxn, TxnOffsetCommit, EndTxn, plus the produce check and the timeout sweep.
extension BrokerCore {
    func transactionalInitProducerId(_ id: TransactionalID, timeoutMs: Int32) -> InitProducerIdResponse {
        let store = self.store
        let step = transactions.initProducerId(id, timeoutMs: timeoutMs, now: .now) { try store.allocateProducerId() }
        carryOut(step.actions)
        switch step.result {
        case .success(let producer):
            logger.debug("transactional producer initialised", metadata: ["transactionalId": "\(id)", "producer": "\(producer)"])
            return InitProducerIdResponse(errorCode: 0, producerId: producer.producerId, producerEpoch: producer.epoch)
        case .failure(let refusal):
            logger.debug("InitProducerId refused", metadata: ["transactionalId": "\(id)", "reason": "\(refusal)"])
            return InitProducerIdResponse(errorCode: refusal.code.rawValue, producerId: -1, producerEpoch: -1)
        }
    }

    func addPartitionsToTxn(_ request: AddPartitionsToTxnRequest) -> AddPartitionsToTxnResponse {
        let id = TransactionalID(request.transactionalId)
        let producer = ProducerIdentity(producerId: request.producerId, epoch: request.producerEpoch)
        var wanted: [TransactionPartition] = []
        var unknown: Set<TransactionPartition> = []
        for topic in request.topics {
            for index in topic.partitions {
                let partition = TransactionPartition(topic: topic.name, partition: index)
                if store.partition(topic.name, index) == nil { unknown.insert(partition) } else { wanted.append(partition) }
            }
        }
        // Kafka adds nothing when any partition is unknown: the others answer OPERATION_NOT_ATTEMPTED.
        let code: (TransactionPartition) -> Int16
        if !unknown.isEmpty {
            code = { unknown.contains($0) ? KafkaErrorCode.unknownTopicOrPartition.rawValue : KafkaErrorCode.operationNotAttempted.rawValue }
        } else {
            let step = transactions.addPartitions(id, producer: producer, partitions: wanted, now: .now)
            carryOut(step.actions)
            if case .failure(let refusal) = step.result {
                logger.debug("AddPartitionsToTxn refused", metadata: ["transactionalId": "\(id)", "reason": "\(refusal)"])
            }
            let errorCode = step.errorCode
            code = { _ in errorCode }
        }
        return AddPartitionsToTxnResponse(results: request.topics.map { topic in
            .init(name: topic.name, results: topic.partitions.map { index in
                .init(partitionIndex: index, errorCode: code(TransactionPartition(topic: topic.name, partition: index)))
            })
        })
    }

    func addOffsetsToTxn(_ request: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse {
        let producer = ProducerIdentity(producerId: request.producerId, epoch: request.producerEpoch)
        let step = transactions.addOffsets(TransactionalID(request.transactionalId), producer: producer, group: request.groupId, now: .now)
        carryOut(step.actions)
        return AddOffsetsToTxnResponse(errorCode: step.errorCode)
    }

    func txnOffsetCommit(_ request: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
        let producer = ProducerIdentity(producerId: request.producerId, epoch: request.producerEpoch)
        let now = nowMs
        var offsets: [CommittedOffset] = []
        var unknown: Set<TransactionPartition> = []
        for topic in request.topics {
            for partition in topic.partitions {
                guard store.partition(topic.name, partition.partitionIndex) != nil else {
                    unknown.insert(TransactionPartition(topic: topic.name, partition: partition.partitionIndex))
                    continue
                }
                offsets.append(CommittedOffset(
                    topic: topic.name, partition: partition.partitionIndex, offset: partition.committedOffset,
                    leaderEpoch: partition.committedLeaderEpoch, metadata: partition.committedMetadata, commitTimestampMs: now
                ))
            }
        }
        let step = transactions.commitOffsets(TransactionalID(request.transactionalId), producer: producer, group: request.groupId, offsets: offsets)
        carryOut(step.actions)
        return TxnOffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                let isUnknown = unknown.contains(TransactionPartition(topic: topic.name, partition: partition.partitionIndex))
                return .init(partitionIndex: partition.partitionIndex,
                             errorCode: isUnknown ? KafkaErrorCode.unknownTopicOrPartition.rawValue : step.errorCode)
            })
        })
    }

    func endTxn(_ request: EndTxnRequest) -> EndTxnResponse {
        let id = TransactionalID(request.transactionalId)
        let producer = ProducerIdentity(producerId: request.producerId, epoch: request.producerEpoch)
        let step = transactions.endTransaction(id, producer: producer, commit: request.committed)
        carryOut(step.actions)
        if case .failure(let refusal) = step.result {
            logger.debug("EndTxn refused", metadata: ["transactionalId": "\(id)", "reason": "\(refusal)"])
        }
        return EndTxnResponse(errorCode: step.errorCode)
    }

    /// Refuses a produce of transactional batches that the coordinator did not admit: an
    /// unknown or fenced producer, or a partition not added to its open transaction.
    /// Nil when the records may be appended (also for every non-transactional produce).
    func checkTransactionalProduce(_ records: ByteBuffer, transactionalId: String?, topic: String, partition: Int32) -> TransactionRefusal? {
        let header: RecordBatchHeader
        do {
            // Storage validates every batch later; a produce request holds one producer's batches.
            header = try RecordBatchHeader(parsing: records, at: records.readerIndex)
        } catch {
            return nil
        }
        guard header.isTransactional else { return nil }
        guard let transactionalId, !transactionalId.isEmpty else {
            return TransactionRefusal(.invalidTxnState, "transactional records for \(topic)-\(partition) came without a transactional id")
        }
        return transactions.checkProduce(
            TransactionalID(transactionalId), producer: ProducerIdentity(producerId: header.producerId, epoch: header.producerEpoch),
            partition: TransactionPartition(topic: topic, partition: partition)
        )
    }

    /// Aborts transactions open longer than their timeout (called by the maintenance loop).
    func expireTransactions() {
        let now = ContinuousClock.now
        guard let deadline = transactions.nextDeadline(), deadline <= now else { return }
        let actions = transactions.expire(now: now)
        guard !actions.isEmpty else { return }
        logger.info("aborting transactions that exceeded transaction.timeout.ms")
        carryOut(actions)
    }

    /// Carries out coordinator actions, then wakes fetches whose partitions got markers (their
    /// last stable offset moved) and makes groups with transactionally committed offsets known.
    func carryOut(_ actions: [TransactionAction]) {
        guard !actions.isEmpty else { return }
        let outcome = transactionEffects.apply(actions, to: &transactions, nowMs: nowMs)
        for group in outcome.committedGroups { groups.restoreGroup(GroupID(group)) }
        wakeFetches(for: outcome.markedPartitions.map { PartitionKey(topic: $0.topic, partition: $0.partition) })
    }
}
