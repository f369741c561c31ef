import KafkaWire
import NIOCore

/// What the log cleaner learns from one pass over a whole partition log: the offset of the
/// latest record of every key, and the last batch of every idempotent or transactional producer.
///
/// Only records the cleaner may remove take part: keyed records of uncompressed batches that are
/// neither control nor transactional. A transactional record may belong to an aborted
/// transaction, so it never hides an older record of its key; a compressed batch is not opened
/// (LocalKafka has no codecs), so its records neither hide others nor are removed.
struct CompactionKeyMap {
    private(set) var latestOffset: [ByteBuffer: Int64] = [:]
    /// Base offset of each producer's last batch in the log.
    private(set) var lastBatchOfProducer: [Int64: Int64] = [:]

    /// Takes in one batch; batches must be visited in offset order.
    mutating func visit(_ batch: RecordBatch) throws(StorageError) {
        let header = batch.header
        if header.hasProducerId { lastBatchOfProducer[header.producerId] = header.baseOffset }
        guard let records = try Self.cleanableRecords(of: batch) else { return }
        for record in records {
            guard let key = record.key else { continue }
            let offset = header.baseOffset + Int64(record.offsetDelta)
            if latestOffset.updateValue(offset, forKey: key) == nil {
                // A key read from the log is a slice of its whole segment: keep a copy of its own,
                // so the map does not hold every segment of the partition in memory.
                latestOffset[key] = nil
                latestOffset[ByteBuffer(bytes: key.readableBytesView)] = offset
            }
        }
    }

    /// The decoded records of a batch the cleaner may filter; nil for control, transactional and
    /// compressed batches, which are kept as they are.
    static func cleanableRecords(of batch: RecordBatch) throws(StorageError) -> [Record]? {
        let header = batch.header
        guard !header.isControl, !header.isTransactional else { return nil }
        let payload: RecordBatchPayload
        do {
            payload = try batch.payload()
        } catch {
            throw StorageError(
                .corruptRecord,
                "stored batch at offset \(header.baseOffset) has malformed records (\(error)); restart the broker to recover the log"
            )
        }
        guard case .records(let records) = payload else { return nil }
        return records
    }
}
