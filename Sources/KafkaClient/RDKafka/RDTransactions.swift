import CRdKafka

/// librdkafka's transactional producer calls (KIP-98). Each one blocks until the coordinator
/// answers or `timeout` passes, so callers run them off the cooperative pool (`RDBlocking`).
extension RDClient {
    func initTransactions(timeout: Duration) throws(KafkaError) {
        if let error = rd_kafka_init_transactions(handle, timeout.clampedMilliseconds) {
            throw Self.transactionError(error, while: "initialising transactions")
        }
    }

    func beginTransaction() throws(KafkaError) {
        if let error = rd_kafka_begin_transaction(handle) {
            throw Self.transactionError(error, while: "beginning a transaction")
        }
    }

    func commitTransaction(timeout: Duration) throws(KafkaError) {
        if let error = rd_kafka_commit_transaction(handle, timeout.clampedMilliseconds) {
            throw Self.transactionError(error, while: "committing the transaction")
        }
    }

    func abortTransaction(timeout: Duration) throws(KafkaError) {
        if let error = rd_kafka_abort_transaction(handle, timeout.clampedMilliseconds) {
            throw Self.transactionError(error, while: "aborting the transaction")
        }
    }

    /// Adds the consumer group's offsets to the open transaction: they become the group's
    /// committed offsets if, and only if, the transaction commits.
    func sendOffsetsToTransaction(_ offsets: [TopicPartition: Offset], group: GroupID, timeout: Duration) throws(KafkaError) {
        guard let metadata = rd_kafka_consumer_group_metadata_new(group.rawValue) else {
            throw KafkaError(code: .invalidArgument, message: "librdkafka could not describe consumer group \(group)", isRetriable: false)
        }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        let list = RDTopicPartitionList(offsets.mapValues(\.rawValue))
        if let error = rd_kafka_send_offsets_to_transaction(handle, list.pointer, metadata, timeout.clampedMilliseconds) {
            throw Self.transactionError(error, while: "adding offsets of group \(group) to the transaction")
        }
    }

    /// Takes over a transactional call's `rd_kafka_error_t` (destroying it), keeping whether the
    /// transaction must now be aborted.
    private static func transactionError(_ error: OpaquePointer, while what: String) -> KafkaError {
        let requiresAbort = rd_kafka_error_txn_requires_abort(error) != 0
        var converted = RDErrorCode.take(error, while: what)
        converted.transactionRequiresAbort = requiresAbort
        if requiresAbort {
            converted.message += " The transaction cannot commit any more: abort it and begin a new one."
        }
        return converted
    }
}
