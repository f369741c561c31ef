import KafkaWire
import NIOCore

/// The log cleaner of one partition (`cleanup.policy` including `compact`).
///
/// One pass reads the whole log (closed and active segments) to learn each key's latest offset,
/// then rewrites every closed segment that holds something to remove; the active segment is
/// never touched. Offsets never change: batches keep their base offsets, so a compacted log has
/// gaps between and inside batches, and a read at a removed offset returns the next batch that
/// holds a higher one.
///
/// Crash safety: a segment's new contents are written to a temporary file, fsynced and renamed
/// over the old file (then the directory is fsynced), so a crash leaves the old or the new
/// segment, each a valid log; temporary files are removed and indexes rebuilt on recovery.
/// A segment left empty is deleted, except the first, which keeps the log start offset.
extension PartitionLog {
    /// Compacts the closed segments now.
    ///
    /// - Returns: what was removed; nil when the topic does not compact or has no closed segment.
    @discardableResult
    func compact(nowMs: Int64) throws(StorageError) -> PartitionCompactionReport? {
        guard settings.compacts, segments.count > 1 else { return nil }
        var report = PartitionCompactionReport(partition: partition)
        report.bytesBefore = sizeInBytes

        var keyMap = CompactionKeyMap()
        for segment in segments {
            for batch in try batches(of: segment) { try keyMap.visit(batch, maxDecompressedBytes: settings.maxDecompressedBatchBytes) }
        }

        var nextTombstoneExpiry: Int64?
        var emptied: [LogSegment] = []
        for position in 0..<(segments.count - 1) {
            let segment = segments[position]
            var rewritten = ByteBuffer()
            var changed = false
            for batch in try batches(of: segment) {
                let decision = try BatchCompaction.decide(
                    batch, keyMap: keyMap, nowMs: nowMs, deleteRetentionMs: settings.deleteRetentionMs,
                    maxDecompressedBytes: settings.maxDecompressedBatchBytes
                )
                report.recordsRemoved += decision.removedRecords
                report.tombstonesRemoved += decision.removedTombstones
                if let expiry = decision.nextTombstoneExpiryMs {
                    nextTombstoneExpiry = min(nextTombstoneExpiry ?? expiry, expiry)
                }
                switch decision.action {
                case .keep:
                    var bytes = batch.bytes
                    rewritten.writeBuffer(&bytes)
                case .drop:
                    changed = true
                case .rewrite(var bytes):
                    changed = true
                    rewritten.writeBuffer(&bytes)
                }
            }
            guard changed else { continue }
            if rewritten.readableBytes == 0, position > 0 {
                emptied.append(segment)
            } else {
                segments[position] = try replace(segment, with: rewritten)
                report.segmentsRewritten += 1
            }
        }
        if !emptied.isEmpty {
            segments.removeAll { segment in emptied.contains { $0 === segment } }
            for segment in emptied { try segment.delete() }
            try DataDirectory.sync(directory)
            report.segmentsDeleted = emptied.count
        }
        report.bytesAfter = sizeInBytes
        compactionCheckpoint = CompactionCheckpoint(
            logEndOffset: logEndOffset,
            segmentCount: segments.count,
            settings: settings,
            nextTombstoneExpiryMs: nextTombstoneExpiry
        )
        logger.info(
            "compacted partition",
            metadata: [
                "partition": "\(topic)-\(partition)", "recordsRemoved": "\(report.recordsRemoved)",
                "tombstonesRemoved": "\(report.tombstonesRemoved)", "segmentsRewritten": "\(report.segmentsRewritten)",
                "segmentsDeleted": "\(report.segmentsDeleted)", "bytesBefore": "\(report.bytesBefore)",
                "bytesAfter": "\(report.bytesAfter)",
            ]
        )
        return report
    }

    /// Whether the periodic cleaner has anything to do: the topic compacts and something changed
    /// since the last cleaning (new records, a rolled segment, a tombstone come due, new configs).
    func needsCompaction(nowMs: Int64) -> Bool {
        guard settings.compacts, segments.count > 1 else { return false }
        guard let checkpoint = compactionCheckpoint else { return true }
        return !checkpoint.isCurrent(for: self, nowMs: nowMs)
    }

    /// Refuses keyless records on a compacted topic, as Kafka does (INVALID_RECORD): compaction
    /// keeps the latest record per key, so a record without one could only be lost.
    ///
    /// `section` is the batch's records section, decompressed and validated.
    func checkKeysForCompaction(_ batch: RecordBatch, records section: ByteBuffer) throws(StorageError) {
        guard settings.compacts, !batch.header.isControl,
            let records = try? RecordBatch.decodeRecords(in: section, declaredCount: batch.header.recordsCount)
        else { return }
        if records.contains(where: { $0.key == nil }) {
            throw StorageError(
                .invalidRecord,
                "compacted topic \(topic) (cleanup.policy=\(settings.cleanupPolicy.joined(separator: ","))) cannot accept records without a key in partition \(partition); give every record a key"
            )
        }
    }

    /// Every batch of `segment`, in offset order.
    private func batches(of segment: LogSegment) throws(StorageError) -> [RecordBatch] {
        let bytes = try segment.read(at: 0, length: segment.size)
        do {
            return try RecordBatchSequence(splitting: bytes).batches
        } catch {
            throw StorageError(
                .corruptRecord,
                "segment \(segment.logPath) of \(topic)-\(partition) cannot be split into batches (\(error)); restart the broker to recover the log"
            )
        }
    }

    /// Atomically replaces a closed segment's file with `contents` and returns the segment
    /// reopened on it, its index rebuilt.
    private func replace(_ segment: LogSegment, with contents: ByteBuffer) throws(StorageError) -> LogSegment {
        try DataDirectory.writeAtomically(contents, to: segment.logPath)
        segment.close()
        let fresh = try LogSegment(directory: directory, baseOffset: segment.baseOffset)
        let outcome = try fresh.recover(verifyCRC: false) { _ in }
        if let problem = outcome.problem {
            throw StorageError(
                .corruptRecord,
                "compacted segment \(fresh.logPath) of \(topic)-\(partition) does not read back (\(problem)); restart the broker to recover the log"
            )
        }
        try fresh.seal()
        return fresh
    }
}
