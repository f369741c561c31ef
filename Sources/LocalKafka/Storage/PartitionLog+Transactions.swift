import Foundation
import KafkaWire
import NIOCore

/// Transactions on one partition: markers, the last stable offset, the aborted transaction
/// index, and rebuilding them when the log is opened.
extension PartitionLog {
    static let transactionSnapshotFile = "transaction-state.json"

    /// The offset below which every record's transaction is decided (KIP-98): the first offset of
    /// the oldest open transaction, or the high watermark.
    public var lastStableOffset: Int64 {
        transactions.lastStableOffset(highWatermark: logEndOffset)
    }

    /// Aborted transactions overlapping `offset..<upperBound`, for a read_committed fetch.
    public func abortedTransactions(from offset: Int64, upTo upperBound: Int64) -> [AbortedTransaction] {
        transactions.abortedTransactions(from: offset, upTo: upperBound)
    }

    /// Producer ids with an open transaction on this partition, with the epoch last seen from
    /// each (what a marker closing it must carry).
    var openTransactionProducers: [(producerId: Int64, epoch: Int16)] {
        transactions.openTransactions.keys.sorted().map { ($0, producers.producers[$0]?.epoch ?? 0) }
    }

    /// Appends a transaction marker (a control batch of one record) for `producerId`, closing
    /// its transaction on this partition. Returns the marker's offset.
    @discardableResult
    public func appendMarker(producerId: Int64, producerEpoch: Int16, commit: Bool, nowMs: Int64) throws(StorageError) -> Int64 {
        let marker = RecordBatchBuilder.transactionMarker(
            producerId: producerId, producerEpoch: producerEpoch, commit: commit, coordinatorEpoch: 0, timestamp: nowMs
        ).build()
        let result = try append(marker, nowMs: nowMs, origin: .coordinator)
        transactions.recordMarker(producerId: producerId, commit: commit, markerOffset: result.baseOffset)
        return result.baseOffset
    }

    /// `records` (whole batches from `read`) cut before the first batch at or after `offset`:
    /// what a read_committed consumer may see when `offset` is the last stable offset.
    static func batches(_ records: ByteBuffer, below offset: Int64) -> ByteBuffer {
        var end = records.readerIndex
        while let header = try? RecordBatchHeader(parsing: records, at: end), header.baseOffset < offset,
            end + header.totalSize <= records.writerIndex
        {
            end += header.totalSize
        }
        return records.getSlice(at: records.readerIndex, length: end - records.readerIndex) ?? ByteBuffer()
    }

    // MARK: Recovery

    /// Rebuilds the transaction state: from the snapshot after a clean shutdown, otherwise by
    /// reading every batch header (and every marker) of the log.
    ///
    /// After a clean shutdown a missing snapshot means "no transactions" (`writeTransactionSnapshot`
    /// writes none for a partition that never saw one), so such partitions are never scanned.
    func recoverTransactions(cleanShutdown: Bool) throws(StorageError) {
        let snapshot = cleanShutdown ? try DataDirectory.read(directory + "/" + Self.transactionSnapshotFile) : nil
        if cleanShutdown, snapshot == nil {
            transactions = PartitionTransactions()
        } else if let snapshot, let decoded = try? JSONDecoder().decode(PartitionTransactions.self, from: Data(snapshot.readableBytesView)) {
            transactions = decoded
        } else {
            transactions = try scanTransactions()
        }
        transactions.forget(before: logStartOffset)
    }

    /// Persists the transaction state for the next clean start (valid only with the clean-shutdown
    /// marker); a partition without any removes a stale snapshot instead of writing an empty one.
    func writeTransactionSnapshot() throws(StorageError) {
        guard transactions != PartitionTransactions() else {
            try DataDirectory.remove(directory + "/" + Self.transactionSnapshotFile)
            return
        }
        let data: Data
        do {
            data = try JSONEncoder().encode(transactions)
        } catch {
            throw StorageError(.corruptMetadata(path: directory), "could not encode transaction state of \(topic)-\(partition): \(error)")
        }
        try DataDirectory.writeAtomically(ByteBuffer(bytes: data), to: directory + "/" + Self.transactionSnapshotFile)
    }

    /// Replays every batch of the (already recovered, so well-formed) log in offset order.
    private func scanTransactions() throws(StorageError) -> PartitionTransactions {
        var transactions = PartitionTransactions()
        // Read in large chunks: a sealed segment opens its file per read.
        let chunkSize = 4 << 20
        for segment in segments {
            var position = 0
            while position < segment.size {
                let chunk = try segment.read(at: position, length: chunkSize)
                var consumed = 0
                while let header = try? RecordBatchHeader(parsing: chunk, at: chunk.readerIndex + consumed) {
                    let fits = consumed + header.totalSize <= chunk.readableBytes
                    if !fits && consumed > 0 { break }
                    if header.isControl {
                        let bytes = fits
                            ? chunk.getSlice(at: chunk.readerIndex + consumed, length: header.totalSize) ?? ByteBuffer()
                            : try segment.read(at: position + consumed, length: header.totalSize)
                        try replayMarker(bytes, into: &transactions)
                    } else {
                        transactions.recordData(header)
                    }
                    consumed += header.totalSize
                    if !fits { break }
                }
                // Recovery validated the log, so this only stops on a file changed under us.
                guard consumed > 0 else { break }
                position += consumed
            }
        }
        return transactions
    }

    private func replayMarker(_ bytes: ByteBuffer, into transactions: inout PartitionTransactions) throws(StorageError) {
        do {
            let batch = try RecordBatch(bytes: bytes)
            guard let type = try batch.controlRecordType() else { return }
            transactions.recordMarker(producerId: batch.header.producerId, commit: type == .commit, markerOffset: batch.header.baseOffset)
        } catch {
            throw StorageError(.corruptRecord, "control batch in \(topic)-\(partition) is malformed: \(error); restart the broker to recover the log")
        }
    }
}

extension PartitionLog {
    /// One past the last offset of the whole batches in `records`; nil when there are none.
    static func nextOffset(after records: ByteBuffer) -> Int64? {
        var position = records.readerIndex
        var next: Int64?
        while let header = try? RecordBatchHeader(parsing: records, at: position), position + header.totalSize <= records.writerIndex {
            next = header.lastOffset &+ 1
            position += header.totalSize
        }
        return next
    }
}
