import KafkaCompression
import KafkaWire
import NIOCore

/// What the log cleaner does with one stored batch of a closed segment: a pure decision from the
/// batch, the partition's key map and the time, so the rules are tested without files.
///
/// A record stays when it is the latest of its key and is not a tombstone older than
/// `delete.retention.ms` (measured from the tombstone's own timestamp). Records without a key
/// go, as Kafka's cleaner drops them. A rewritten batch keeps its base offset, its
/// `lastOffsetDelta` (so consumers move past a removed tail), its timestamps, producer fields and
/// attributes; its records keep their offset deltas (batch format v2 allows gaps between them),
/// and its CRC is recomputed.
///
/// A compressed batch is decompressed, filtered like any other, and its kept records compressed
/// again with the same codec, as Kafka's cleaner does. Control and transactional batches are
/// never changed. The last batch of each producer id is kept even when every record in it goes
/// (as an uncompressed batch of no records, as Kafka does), so the producer's last sequence
/// number and epoch survive in the log and idempotent producer state rebuilt by recovery after
/// a crash stays correct.
struct BatchCompaction: Equatable {
    enum Action: Equatable {
        /// Nothing to remove: the stored bytes stay as they are.
        case keep
        /// Every record goes and nothing else needs the batch.
        case drop
        /// Some records go: the batch is rewritten with the rest.
        case rewrite(ByteBuffer)
    }

    var action: Action
    /// Records removed, tombstones included.
    var removedRecords = 0
    /// Tombstones removed because they outlived `delete.retention.ms`.
    var removedTombstones = 0
    /// When the earliest tombstone kept in the batch comes due; nil when none is kept.
    var nextTombstoneExpiryMs: Int64?

    /// Decides the fate of `batch` (a batch of a closed segment).
    static func decide(
        _ batch: RecordBatch,
        keyMap: CompactionKeyMap,
        nowMs: Int64,
        deleteRetentionMs: Int64,
        maxDecompressedBytes: Int
    ) throws(StorageError) -> BatchCompaction {
        guard let records = try CompactionKeyMap.cleanableRecords(of: batch, maxDecompressedBytes: maxDecompressedBytes) else {
            return BatchCompaction(action: .keep)
        }
        let header = batch.header
        var kept: [Record] = []
        var decision = BatchCompaction(action: .keep)
        for record in records {
            let offset = header.baseOffset + Int64(record.offsetDelta)
            guard let key = record.key, keyMap.latestOffset[key] == offset else { continue }
            if record.value == nil {
                let timestamp = header.timestampType == .logAppendTime
                    ? header.maxTimestamp : header.baseTimestamp &+ record.timestampDelta
                if nowMs &- timestamp > deleteRetentionMs {
                    decision.removedTombstones += 1
                    continue
                }
                let expiry = timestamp &+ deleteRetentionMs
                decision.nextTombstoneExpiryMs = min(decision.nextTombstoneExpiryMs ?? expiry, expiry)
            }
            kept.append(record)
        }
        decision.removedRecords = records.count - kept.count
        guard decision.removedRecords > 0 else { return decision }
        let isLastOfProducer = header.hasProducerId && keyMap.lastBatchOfProducer[header.producerId] == header.baseOffset
        decision.action = kept.isEmpty && !isLastOfProducer ? .drop : .rewrite(try encode(header, kept))
        return decision
    }

    /// The batch `header` describes, holding only `records` (compressed with the batch's codec),
    /// with a fresh CRC. A batch left without records is written uncompressed, as Kafka does.
    static func encode(_ header: RecordBatchHeader, _ records: [Record]) throws(StorageError) -> ByteBuffer {
        var header = header
        if records.isEmpty { header.attributes &= ~0x7 }
        do {
            return try RecordBatch.encode(header: header, records: records)
        } catch {
            throw StorageError(
                .corruptRecord,
                "the log cleaner could not write the batch at offset \(header.baseOffset) again: \(error)"
            )
        }
    }
}
