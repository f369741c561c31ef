import Foundation
import KafkaWire
import NIOCore
@testable import LocalKafka

/// One record as the compaction tests write and read it.
struct KeyedRecord: Equatable, CustomStringConvertible {
    var offset: Int64 = -1
    var key: String?
    var value: String?
    var timestamp: Int64 = 1_000

    var description: String { "\(offset):\(key ?? "∅")=\(value ?? "∅")" }
}

/// An uncompressed batch of keyed records (nil value: a tombstone).
func keyedBatch(
    _ records: [(key: String?, value: String?)],
    timestamp: Int64 = 1_000,
    producerId: Int64 = -1,
    epoch: Int16 = -1,
    sequence: Int32 = -1,
    transactional: Bool = false
) -> ByteBuffer {
    var builder = RecordBatchBuilder(baseTimestamp: timestamp)
    builder.producerId = producerId
    builder.producerEpoch = epoch
    builder.baseSequence = sequence
    builder.isTransactional = transactional
    for record in records {
        builder.append(key: record.key.map { ByteBuffer(string: $0) }, value: record.value.map { ByteBuffer(string: $0) })
    }
    return builder.build()
}

/// Every record of `records` (whole batches) at or after `from`, and the offset a consumer
/// fetches next: one past the last batch's `lastOffset`, so removed tails are skipped.
func decodeKeyed(_ records: ByteBuffer, from: Int64) throws -> (records: [KeyedRecord], next: Int64?) {
    var result: [KeyedRecord] = []
    var next: Int64?
    for batch in try RecordBatchSequence(splitting: records).batches {
        next = batch.header.lastOffset + 1
        guard case .records(let decoded) = try batch.payload() else { continue }
        for record in decoded {
            let offset = batch.header.baseOffset + Int64(record.offsetDelta)
            guard offset >= from else { continue }
            result.append(
                KeyedRecord(
                    offset: offset,
                    key: record.key.map { String(buffer: $0) },
                    value: record.value.map { String(buffer: $0) },
                    timestamp: batch.header.baseTimestamp + record.timestampDelta
                )
            )
        }
    }
    return (result, next)
}

/// Reads the partition from its start to its end as a consumer would, moving on by batch
/// `lastOffset`, never by the last record seen.
func readKeyed(_ log: PartitionLog, from offset: Int64? = nil, maxBytes: Int = 1024) throws -> [KeyedRecord] {
    var position = offset ?? log.logStartOffset
    var records: [KeyedRecord] = []
    while position < log.logEndOffset {
        let (decoded, next) = try decodeKeyed(try log.read(from: position, maxBytes: maxBytes).records, from: position)
        guard let next, next > position else { break }
        records.append(contentsOf: decoded)
        position = next
    }
    return records
}

/// Every batch header in the partition's segment files, checking each batch's CRC.
func storedBatches(_ directory: URL, _ topic: String, _ partition: Int) throws -> [(header: RecordBatchHeader, crcValid: Bool)] {
    var result: [(RecordBatchHeader, Bool)] = []
    for file in try segmentFiles(directory, topic, partition) {
        let data = try Data(contentsOf: file)
        for batch in try RecordBatchSequence(splitting: ByteBuffer(bytes: data)).batches {
            result.append((batch.header, batch.hasValidCRC))
        }
    }
    return result
}

/// What compaction must leave: every record of the active segment (offsets at or after
/// `activeBase`) and, before it, only the latest record of each key that is not an expired
/// tombstone.
func expectedAfterCompaction(
    _ written: [KeyedRecord], activeBase: Int64, nowMs: Int64 = 0, deleteRetentionMs: Int64 = 86_400_000
) -> [KeyedRecord] {
    var latest: [String: Int64] = [:]
    for record in written { if let key = record.key { latest[key] = record.offset } }
    return written.filter { record in
        if record.offset >= activeBase { return true }
        guard let key = record.key, latest[key] == record.offset else { return false }
        return record.value != nil || nowMs - record.timestamp <= deleteRetentionMs
    }
}

/// Copies the partition directory aside (to build crash states from).
func snapshotPartition(_ directory: URL, _ topic: String, _ partition: Int) throws -> URL {
    let source = directory.appendingPathComponent("topics/\(topic)-\(partition)")
    let copy = directory.appendingPathComponent("snapshot-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: source, to: copy)
    return copy
}
