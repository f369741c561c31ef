import KafkaCompression
import KafkaWire
import NIOCore

/// What the log cleaner learns from one pass over a whole partition log: the offset of the
/// latest record of every key, and the last batch of every idempotent or transactional producer.
///
/// Only records the cleaner may remove take part: keyed records of batches that are neither
/// control nor transactional (compressed batches are decompressed). A transactional record may
/// belong to an aborted transaction, so it never hides an older record of its key.
struct CompactionKeyMap {
    private(set) var latestOffset: [ByteBuffer: Int64] = [:]
    /// Base offset of each producer's last batch in the log.
    private(set) var lastBatchOfProducer: [Int64: Int64] = [:]

    /// Takes in one batch; batches must be visited in offset order.
    mutating func visit(_ batch: RecordBatch, maxDecompressedBytes: Int) throws(StorageError) {
        let header = batch.header
        if header.hasProducerId { lastBatchOfProducer[header.producerId] = header.baseOffset }
        guard let records = try Self.cleanableRecords(of: batch, maxDecompressedBytes: maxDecompressedBytes) else { return }
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

    /// The decoded (and decompressed) records of a batch the cleaner may filter; nil for control
    /// and transactional batches, which are kept as they are.
    static func cleanableRecords(of batch: RecordBatch, maxDecompressedBytes: Int) throws(StorageError) -> [Record]? {
        let header = batch.header
        guard !header.isControl, !header.isTransactional else { return nil }
        do {
            return try batch.records(maxDecompressedBytes: maxDecompressedBytes)
        } catch {
            throw StorageError(
                .corruptRecord,
                "stored batch at offset \(header.baseOffset) has malformed records (\(error)); restart the broker to recover the log"
            )
        }
    }
}
