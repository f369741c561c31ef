import KafkaWire
import NIOCore

extension PartitionLog {
    /// Deletes whole old segments past `retention.ms` or beyond `retention.bytes` (topics whose
    /// `cleanup.policy` includes `delete`); never the active segment. Moves `logStartOffset` to the first remaining segment.
    ///
    /// - Returns: how many segments were deleted.
    @discardableResult
    func enforceRetention(nowMs: Int64) throws(StorageError) -> Int {
        var deletable = 0
        // Time and size retention belong to the delete policy; a compact-only topic keeps its
        // segments and only the log cleaner (PartitionLog+Compaction) removes records from them.
        let deletes = settings.cleanupPolicy.contains("delete")
        if deletes, settings.retentionMs >= 0 {
            // A segment expires when its newest record is older than retention.ms.
            while deletable < segments.count - 1 {
                let segment = segments[deletable]
                // A segment compaction emptied has no timestamp and nothing to keep.
                guard segment.size == 0 || (segment.maxTimestamp >= 0 && nowMs - segment.maxTimestamp > settings.retentionMs) else { break }
                deletable += 1
            }
        }
        if deletes, settings.retentionBytes >= 0 {
            var excess = Int64(sizeInBytes) - settings.retentionBytes
            for segment in segments.prefix(deletable) { excess -= Int64(segment.size) }
            while deletable < segments.count - 1, excess - Int64(segments[deletable].size) >= 0 {
                excess -= Int64(segments[deletable].size)
                deletable += 1
            }
        }
        // Segments wholly below a DeleteRecords point go too.
        while deletable < segments.count - 1, segments[deletable + 1].baseOffset <= logStartOffset {
            deletable += 1
        }
        guard deletable > 0 else { return 0 }
        try deleteOldestSegments(deletable)
        return deletable
    }

    /// Makes records before `offset` unreadable (DeleteRecords) and deletes segments wholly below it.
    ///
    /// - Returns: the new log start offset.
    /// - Throws: `.offsetOutOfRange` when `offset` is beyond the log end offset.
    public func deleteRecords(before offset: Int64) throws(StorageError) -> Int64 {
        guard offset >= 0, offset <= logEndOffset else {
            throw StorageError(
                .offsetOutOfRange,
                "cannot delete records of \(topic)-\(partition) before offset \(offset): the log ends at \(logEndOffset)"
            )
        }
        guard offset > logStartOffset else { return logStartOffset }
        logStartOffset = offset
        try writeLogStartOffset()
        var deletable = 0
        while deletable < segments.count - 1, segments[deletable + 1].baseOffset <= offset { deletable += 1 }
        if deletable > 0 { try deleteOldestSegments(deletable) }
        return logStartOffset
    }

    private func deleteOldestSegments(_ count: Int) throws(StorageError) {
        let doomed = segments.prefix(count)
        segments.removeFirst(count)
        logStartOffset = max(logStartOffset, segments[0].baseOffset)
        for segment in doomed {
            logger.info("deleting old segment", metadata: ["segment": "\(segment.logPath)"])
            try segment.delete()
        }
        try DataDirectory.sync(directory)
    }

    /// The first record whose timestamp is at or after `timestamp`, with that timestamp
    /// (ListOffsets by time); compressed batches are decompressed. Nil when every record is older.
    public func offset(forTimestamp timestamp: Int64) -> (offset: Int64, timestamp: Int64)? {
        do {
            for segment in segments where segment.maxTimestamp >= timestamp && segment.nextOffset > logStartOffset {
                var position = Int(segment.index.entry(beforeTimestamp: timestamp)?.position ?? 0)
                while position < segment.size {
                    let header = try segment.header(at: position)
                    defer { position += header.totalSize }
                    guard header.maxTimestamp >= timestamp, header.lastOffset >= logStartOffset else { continue }
                    let batch = try RecordBatch(bytes: segment.read(at: position, length: header.totalSize))
                    for record in try records(of: batch) {
                        let offset = header.baseOffset + Int64(record.offsetDelta)
                        let recordTime = header.timestampType == .logAppendTime
                            ? header.maxTimestamp : header.baseTimestamp &+ record.timestampDelta
                        if offset >= logStartOffset, recordTime >= timestamp { return (offset, recordTime) }
                    }
                }
            }
        } catch {
            logger.error("offset lookup by timestamp failed", metadata: ["error": "\(error)"])
        }
        return nil
    }
}
