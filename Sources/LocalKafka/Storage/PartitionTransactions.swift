import KafkaWire

/// One aborted transaction as a read_committed consumer needs to know it: the producer, the
/// offset of its first record in this partition and the offset of its abort marker.
public struct AbortedTransaction: Sendable, Equatable, Codable {
    public var producerId: Int64
    public var firstOffset: Int64
    public var lastOffset: Int64
}

/// The transactions of one partition: where each open transaction starts (which bounds the last
/// stable offset) and the index of aborted transactions.
///
/// A pure value fed with every appended batch header in offset order, and with the outcome of
/// every marker: on append by the log, on recovery by a scan of the log (or from the snapshot
/// written at clean shutdown).
struct PartitionTransactions: Equatable, Codable {
    /// Per producer id with an open transaction here, the offset of its first record.
    private(set) var openTransactions: [Int64: Int64] = [:]
    /// Aborted transactions in marker order (so sorted by `lastOffset`).
    private(set) var aborted: [AbortedTransaction] = []

    /// Records an appended data batch: a transactional one opens (or continues) its producer's
    /// transaction. Control batches are recorded with `recordMarker`.
    mutating func recordData(_ header: RecordBatchHeader) {
        guard header.isTransactional, !header.isControl, header.hasProducerId else { return }
        if openTransactions[header.producerId] == nil {
            openTransactions[header.producerId] = header.baseOffset
        }
    }

    /// Records a transaction marker written at `markerOffset`. A marker for a producer with no
    /// open transaction here (a retried EndTxn, or a partition it never wrote to) changes nothing.
    mutating func recordMarker(producerId: Int64, commit: Bool, markerOffset: Int64) {
        guard let first = openTransactions.removeValue(forKey: producerId) else { return }
        if !commit {
            aborted.append(AbortedTransaction(producerId: producerId, firstOffset: first, lastOffset: markerOffset))
        }
    }

    /// The last stable offset: the first offset of the oldest open transaction, or `highWatermark`
    /// when none is open. read_committed consumers see only records below it.
    func lastStableOffset(highWatermark: Int64) -> Int64 {
        min(openTransactions.values.min() ?? highWatermark, highWatermark)
    }

    /// The aborted transactions that overlap the offsets `from..<upperBound`, oldest first.
    func abortedTransactions(from offset: Int64, upTo upperBound: Int64) -> [AbortedTransaction] {
        aborted.filter { $0.lastOffset >= offset && $0.firstOffset < upperBound }
    }

    /// Forgets aborted transactions that ended before `logStartOffset` (deleted by retention or
    /// DeleteRecords): no consumer can fetch them any more.
    mutating func forget(before logStartOffset: Int64) {
        aborted.removeAll { $0.lastOffset < logStartOffset }
    }
}
