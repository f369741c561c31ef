import Logging

/// Carries out the coordinator's actions against storage: the side of the transaction
/// coordinator that does I/O. Used by the broker for every request and once at start-up.
struct TransactionEffects {
    let store: LogStore
    let stateFile: TransactionStateFile
    let logger: Logger

    /// What carrying out the actions changed, for the broker to wake fetches and know groups.
    struct Outcome {
        var markedPartitions: [TransactionPartition] = []
        var committedGroups: [String] = []
    }

    func apply(_ actions: [TransactionAction], to coordinator: inout TransactionCoordinator, nowMs: Int64) -> Outcome {
        var outcome = Outcome()
        var pending = actions[...]
        while let action = pending.popFirst() {
            switch action {
            case .persist:
                do {
                    try stateFile.write(coordinator.transactions)
                } catch {
                    logger.error("cannot persist the transaction state; a restart may forget the latest phase", metadata: ["error": "\(error)"])
                }
            case .writeMarkers(let id, let markers):
                if writeMarkers(markers, for: id, nowMs: nowMs, marked: &outcome.markedPartitions) {
                    pending.insert(contentsOf: coordinator.markersWritten(id), at: pending.startIndex)
                }
            case .commitOffsets(let group, let offsets):
                do {
                    try store.groupOffsets.commit(group: group, offsets: offsets)
                    outcome.committedGroups.append(group)
                } catch {
                    logger.error("cannot persist offsets committed by a transaction", metadata: ["group": "\(group)", "error": "\(error)"])
                }
            }
        }
        return outcome
    }

    /// Writes one marker per partition; false when any failed (the transaction stays preparing
    /// and a retried EndTxn or InitProducerId writes the missing ones).
    private func writeMarkers(_ markers: TransactionMarkers, for id: TransactionalID, nowMs: Int64, marked: inout [TransactionPartition]) -> Bool {
        var complete = true
        for partition in markers.partitions {
            // A partition deleted since it was added needs no marker.
            guard let log = store.partition(partition.topic, partition.partition) else { continue }
            do {
                try log.appendMarker(producerId: markers.producer.producerId, producerEpoch: markers.producer.epoch,
                                     commit: markers.commit, nowMs: nowMs)
                marked.append(partition)
            } catch {
                complete = false
                logger.error("cannot write a transaction marker", metadata: [
                    "transactionalId": "\(id)", "partition": "\(partition)", "commit": "\(markers.commit)", "error": "\(error)",
                ])
            }
        }
        return complete
    }

    /// Aborts transactions left open on partitions that the coordinator does not account for
    /// (a restart after the state file lagged the log, or data from a coordinator state that
    /// was lost): otherwise their last stable offset would never move again.
    func abortOrphanedTransactions(nowMs: Int64) -> [TransactionPartition] {
        var marked: [TransactionPartition] = []
        for (topic, logs) in store.partitions.sorted(by: { $0.key < $1.key }) {
            for log in logs {
                for open in log.openTransactionProducers {
                    do {
                        try log.appendMarker(producerId: open.producerId, producerEpoch: open.epoch, commit: false, nowMs: nowMs)
                        marked.append(TransactionPartition(topic: topic, partition: log.partition))
                        logger.warning("aborted a transaction left open before the restart", metadata: [
                            "partition": "\(topic)-\(log.partition)", "producerId": "\(open.producerId)",
                        ])
                    } catch {
                        logger.error("cannot abort a transaction left open before the restart", metadata: [
                            "partition": "\(topic)-\(log.partition)", "producerId": "\(open.producerId)", "error": "\(error)",
                        ])
                    }
                }
            }
        }
        return marked
    }
}
