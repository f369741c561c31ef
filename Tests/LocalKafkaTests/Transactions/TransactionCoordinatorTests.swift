import KafkaWire
import Testing

@testable import LocalKafka

/// The coordinator's rules without a broker: every event's answer and actions. Time is a
/// fixed starting instant plus explicit durations, never a sleep.
@Suite struct TransactionCoordinatorTests {
    let start = ContinuousClock.now
    let p0 = TransactionPartition(topic: "t", partition: 0)
    let p1 = TransactionPartition(topic: "t", partition: 1)

    /// Hands out 100, 101, … as new producer ids.
    final class Allocator {
        var next: Int64 = 100
        func allocate() -> Int64 {
            defer { next += 1 }
            return next
        }
    }

    private func initialised(_ coordinator: inout TransactionCoordinator, _ id: TransactionalID = "app", timeoutMs: Int32 = 60_000, allocator: Allocator = Allocator()) throws -> ProducerIdentity {
        try coordinator.initProducerId(id, timeoutMs: timeoutMs, now: start, allocateProducerId: allocator.allocate).result.get()
    }

    private func code<T>(_ step: TransactionStep<T>) -> KafkaErrorCode {
        KafkaErrorCode(rawValue: step.errorCode)
    }

    @Test func aTransactionalIdKeepsItsProducerIdAndEveryInitBumpsTheEpoch() throws {
        var coordinator = TransactionCoordinator()
        let allocator = Allocator()
        let first = try initialised(&coordinator, allocator: allocator)
        let second = try initialised(&coordinator, allocator: allocator)
        let other = try initialised(&coordinator, "other", allocator: allocator)
        #expect(first == ProducerIdentity(producerId: 100, epoch: 0))
        #expect(second == ProducerIdentity(producerId: 100, epoch: 1))
        #expect(other.producerId == 101)
    }

    @Test func anOlderEpochIsFencedEverywhere() throws {
        var coordinator = TransactionCoordinator()
        let old = try initialised(&coordinator)
        let current = try initialised(&coordinator)
        #expect(code(coordinator.addPartitions("app", producer: old, partitions: [p0], now: start)) == .invalidProducerEpoch)
        #expect(code(coordinator.addOffsets("app", producer: old, group: "g", now: start)) == .invalidProducerEpoch)
        #expect(code(coordinator.endTransaction("app", producer: old, commit: true)) == .invalidProducerEpoch)
        #expect(code(coordinator.addPartitions("app", producer: current, partitions: [p0], now: start)) == .none)
        #expect(coordinator.checkProduce("app", producer: old, partition: p0)?.code == .invalidProducerEpoch)
        #expect(coordinator.checkProduce("app", producer: current, partition: p0) == nil)
        // Unknown ids and foreign producer ids are refused as a mapping error.
        #expect(code(coordinator.addPartitions("nobody", producer: current, partitions: [p0], now: start)) == .invalidProducerIdMapping)
        let stranger = ProducerIdentity(producerId: 999, epoch: current.epoch)
        #expect(code(coordinator.addPartitions("app", producer: stranger, partitions: [p0], now: start)) == .invalidProducerIdMapping)
    }

    @Test func producingNeedsThePartitionAddedToAnOpenTransaction() throws {
        var coordinator = TransactionCoordinator()
        let producer = try initialised(&coordinator)
        #expect(coordinator.checkProduce("app", producer: producer, partition: p0)?.code == .invalidTxnState)
        _ = coordinator.addPartitions("app", producer: producer, partitions: [p0], now: start)
        #expect(coordinator.checkProduce("app", producer: producer, partition: p0) == nil)
        #expect(coordinator.checkProduce("app", producer: producer, partition: p1)?.code == .invalidTxnState)
        _ = coordinator.endTransaction("app", producer: producer, commit: true)
        _ = coordinator.markersWritten("app")
        #expect(coordinator.checkProduce("app", producer: producer, partition: p0)?.code == .invalidTxnState)
    }

    @Test func commitWritesCommitMarkersToEveryPartitionAndReleasesTheOffsets() throws {
        var coordinator = TransactionCoordinator()
        let producer = try initialised(&coordinator)
        _ = coordinator.addPartitions("app", producer: producer, partitions: [p1, p0], now: start)
        _ = coordinator.addOffsets("app", producer: producer, group: "g", now: start)
        let offset = CommittedOffset(topic: "in", partition: 0, offset: 42, commitTimestampMs: 7)
        #expect(code(coordinator.commitOffsets("app", producer: producer, group: "g", offsets: [offset])) == .none)
        let end = coordinator.endTransaction("app", producer: producer, commit: true)
        #expect(code(end) == .none)
        #expect(end.actions == [
            .persist,
            .writeMarkers("app", TransactionMarkers(producer: producer, commit: true, partitions: [p0, p1])),
            .commitOffsets(group: "g", offsets: [offset]),
        ])
        #expect(coordinator.transactions["app"]?.phase == .prepareCommit)
        #expect(coordinator.markersWritten("app") == [.persist])
        #expect(coordinator.transactions["app"]?.phase == .completeCommit)
        // A retried EndTxn whose answer was lost succeeds and writes nothing more.
        let retry = coordinator.endTransaction("app", producer: producer, commit: true)
        #expect(code(retry) == .none && retry.actions.isEmpty)
        #expect(code(coordinator.endTransaction("app", producer: producer, commit: false)) == .invalidTxnState)
    }

    @Test func abortDiscardsTheOffsetsAndOffsetsNeedTheGroupAdded() throws {
        var coordinator = TransactionCoordinator()
        let producer = try initialised(&coordinator)
        _ = coordinator.addPartitions("app", producer: producer, partitions: [p0], now: start)
        let offset = CommittedOffset(topic: "in", partition: 0, offset: 1, commitTimestampMs: 0)
        #expect(code(coordinator.commitOffsets("app", producer: producer, group: "g", offsets: [offset])) == .invalidTxnState)
        _ = coordinator.addOffsets("app", producer: producer, group: "g", now: start)
        _ = coordinator.commitOffsets("app", producer: producer, group: "g", offsets: [offset])
        let end = coordinator.endTransaction("app", producer: producer, commit: false)
        #expect(end.actions == [.persist, .writeMarkers("app", TransactionMarkers(producer: producer, commit: false, partitions: [p0]))])
    }

    @Test func endingWithoutAnOpenTransactionIsAnInvalidState() throws {
        var coordinator = TransactionCoordinator()
        let producer = try initialised(&coordinator)
        #expect(code(coordinator.endTransaction("app", producer: producer, commit: true)) == .invalidTxnState)
        #expect(code(coordinator.endTransaction("app", producer: producer, commit: false)) == .invalidTxnState)
    }

    @Test func whileMarkersAreOwedTheTransactionIsBusyAndRetriesRewriteThem() throws {
        var coordinator = TransactionCoordinator()
        let producer = try initialised(&coordinator)
        _ = coordinator.addPartitions("app", producer: producer, partitions: [p0], now: start)
        _ = coordinator.endTransaction("app", producer: producer, commit: true)
        // The markers were not written (say the disk failed): the phase stays preparing.
        #expect(code(coordinator.addPartitions("app", producer: producer, partitions: [p1], now: start)) == .concurrentTransactions)
        let retry = coordinator.endTransaction("app", producer: producer, commit: true)
        #expect(code(retry) == .concurrentTransactions)
        #expect(retry.actions == [.writeMarkers("app", TransactionMarkers(producer: producer, commit: true, partitions: [p0]))])
    }

    @Test func reinitialisingAbortsTheOpenTransactionUnderTheNewEpoch() throws {
        var coordinator = TransactionCoordinator()
        let allocator = Allocator()
        let old = try initialised(&coordinator, allocator: allocator)
        _ = coordinator.addPartitions("app", producer: old, partitions: [p0, p1], now: start)
        let step = coordinator.initProducerId("app", timeoutMs: 60_000, now: start, allocateProducerId: allocator.allocate)
        let new = try step.result.get()
        #expect(new == ProducerIdentity(producerId: old.producerId, epoch: old.epoch + 1))
        // The abort markers carry the new epoch: the old instance is fenced on the partitions too.
        #expect(step.actions == [.persist, .writeMarkers("app", TransactionMarkers(producer: new, commit: false, partitions: [p0, p1]))])
        _ = coordinator.markersWritten("app")
        #expect(coordinator.transactions["app"]?.phase == .completeAbort)
    }

    @Test func aTransactionOpenLongerThanItsTimeoutIsAbortedAndItsProducerFenced() throws {
        var coordinator = TransactionCoordinator()
        let producer = try initialised(&coordinator, timeoutMs: 5_000)
        _ = coordinator.addPartitions("app", producer: producer, partitions: [p0], now: start + .seconds(1))
        #expect(coordinator.nextDeadline() == start + .seconds(6))
        #expect(coordinator.expire(now: start + .milliseconds(5_999)).isEmpty)
        let actions = coordinator.expire(now: start + .seconds(6))
        let bumped = ProducerIdentity(producerId: producer.producerId, epoch: producer.epoch + 1)
        #expect(actions == [.persist, .writeMarkers("app", TransactionMarkers(producer: bumped, commit: false, partitions: [p0]))])
        _ = coordinator.markersWritten("app")
        #expect(coordinator.nextDeadline() == nil)
        #expect(code(coordinator.endTransaction("app", producer: producer, commit: true)) == .invalidProducerEpoch)
        #expect(coordinator.checkProduce("app", producer: producer, partition: p0)?.code == .invalidProducerEpoch)
    }

    @Test func transactionTimeoutMustBeWithinTheBrokerMaximum() {
        var coordinator = TransactionCoordinator()
        for timeout: Int32 in [0, -1, TransactionCoordinator.maxTransactionTimeoutMs + 1] {
            let step = coordinator.initProducerId("app", timeoutMs: timeout, now: start, allocateProducerId: Allocator().allocate)
            #expect(code(step) == .invalidTransactionTimeout)
        }
        #expect(coordinator.transactions.isEmpty)
    }

    @Test func anExhaustedEpochMovesToANewProducerId() throws {
        var coordinator = TransactionCoordinator()
        let allocator = Allocator()
        var producer = try initialised(&coordinator, allocator: allocator)
        for _ in 0..<(Int(Int16.max) - 1) { producer = try initialised(&coordinator, allocator: allocator) }
        // The last epoch value is held in reserve: past 32766 the id is replaced.
        #expect(producer == ProducerIdentity(producerId: 100, epoch: Int16.max - 1))
        producer = try initialised(&coordinator, allocator: allocator)
        #expect(producer == ProducerIdentity(producerId: 101, epoch: 0))
    }

    @Test func aRestartAbortsOpenTransactionsAndFinishesPreparedOnes() throws {
        var coordinator = TransactionCoordinator()
        let allocator = Allocator()
        let open = try initialised(&coordinator, "open", allocator: allocator)
        let prepared = try initialised(&coordinator, "prepared", allocator: allocator)
        let idle = try initialised(&coordinator, "idle", allocator: allocator)
        _ = coordinator.addPartitions("open", producer: open, partitions: [p0], now: start)
        _ = coordinator.addPartitions("prepared", producer: prepared, partitions: [p1], now: start)
        _ = coordinator.addOffsets("prepared", producer: prepared, group: "g", now: start)
        let offset = CommittedOffset(topic: "in", partition: 0, offset: 9, commitTimestampMs: 0)
        _ = coordinator.commitOffsets("prepared", producer: prepared, group: "g", offsets: [offset])
        _ = coordinator.endTransaction("prepared", producer: prepared, commit: true)

        let (restored, actions) = TransactionCoordinator.restored(coordinator.transactions)
        let bumped = ProducerIdentity(producerId: open.producerId, epoch: open.epoch + 1)
        #expect(actions == [
            .persist,
            .writeMarkers("open", TransactionMarkers(producer: bumped, commit: false, partitions: [p0])),
            .writeMarkers("prepared", TransactionMarkers(producer: prepared, commit: true, partitions: [p1])),
            .commitOffsets(group: "g", offsets: [offset]),
        ])
        #expect(restored.transactions["idle"]?.producer == idle)
        #expect(restored.transactions["open"]?.producer == bumped)
    }
}
