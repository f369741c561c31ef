/// Transactions (KIP-98): records sent between ``KafkaProducer/beginTransaction()`` and
/// ``KafkaProducer/commitTransaction(timeout:)`` become visible to `read_committed` consumers
/// together, or (after ``KafkaProducer/abortTransaction(timeout:)``) never.
///
/// Needs ``KafkaProducerConfiguration/transactionalID``. The usual sequence:
///
/// ```swift
/// try await producer.initTransactions()
/// try producer.beginTransaction()
/// _ = try await producer.send(records)
/// try await producer.commitTransaction()
/// ```
///
/// Errors are ``KafkaError`` values: `isRetriable` (call the same method again),
/// `transactionRequiresAbort` (abort, then begin again) or `isFatal` (another producer with the
/// same transactional id fenced this one: create a new producer).
///
/// - Important: one transactional call at a time per producer. The blocking ones run on
///   dispatch threads, never on Swift's cooperative pool.
extension KafkaProducer {
    /// Registers the transactional id with the coordinator, fencing older producers with the
    /// same id and aborting a transaction they left open. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let client = self.transactionalClient
        try await RDBlocking.run { () throws(KafkaError) in try client.initTransactions(timeout: timeout) }
    }

    /// Starts a transaction; every record sent until commit or abort belongs to it.
    /// Does not block (librdkafka only changes local state).
    public func beginTransaction() throws(KafkaError) {
        try transactionalClient.beginTransaction()
    }

    /// Adds a consumer group's positions to the open transaction (consume–transform–produce):
    /// they become the group's committed offsets exactly when the transaction commits.
    /// - Parameter offsets: the next offset to read per partition (last processed + 1).
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: Offset], group: GroupID, timeout: Duration = .seconds(30)
    ) async throws(KafkaError) {
        let client = self.transactionalClient
        try await RDBlocking.run { () throws(KafkaError) in
            try client.sendOffsetsToTransaction(offsets, group: group, timeout: timeout)
        }
    }

    /// Delivers every record of the open transaction, then commits it.
    /// - Throws: ``KafkaError``; when `transactionRequiresAbort`, a record could not be delivered
    ///   and the transaction must be aborted instead.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let client = self.transactionalClient
        try await RDBlocking.run { () throws(KafkaError) in try client.commitTransaction(timeout: timeout) }
    }

    /// Aborts the open transaction: its records stay in the log but `read_committed` consumers
    /// never see them. Records not yet delivered are purged (their sends fail).
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let client = self.transactionalClient
        try await RDBlocking.run { () throws(KafkaError) in try client.abortTransaction(timeout: timeout) }
    }
}
