import KafkaCompression
import KafkaWire
import NIOCore

extension TopicSettings {
    /// How many bytes the records of one compressed batch may expand to: 64 × `max.message.bytes`
    /// (at least 64 MiB). Producers bound a batch's uncompressed size by their own
    /// `message.max.bytes`, so real batches stay far below; a small hostile batch claiming
    /// gigabytes is refused before the broker allocates them.
    var maxDecompressedBatchBytes: Int {
        min(Int(Int32.max), max(maxMessageBytes, 1 << 20) * 64)
    }
}

extension PartitionLog {
    /// The records of `batch`, decompressed when need be.
    ///
    /// - Throws: `WireError` when the records are malformed or do not decompress within
    ///   `maxDecompressedBatchBytes`.
    func records(of batch: RecordBatch) throws(WireError) -> [Record] {
        try batch.records(maxDecompressedBytes: settings.maxDecompressedBatchBytes)
    }

    /// The uncompressed records section of a produced batch, its framing checked (every record
    /// parses, offset deltas count up from 0, as many as `recordsCount`), as Kafka validates
    /// compressed and uncompressed batches alike.
    func validatedRecordsSection(of batch: RecordBatch) throws(StorageError) -> ByteBuffer {
        let name = "\(topic)-\(partition)"
        do {
            let section = try batch.uncompressedRecordsSection(maxBytes: settings.maxDecompressedBatchBytes)
            try RecordBatch.validateRecords(in: section, declaredCount: batch.header.recordsCount)
            return section
        } catch .tooLarge(_, let size, let limit) {
            throw StorageError(
                .messageTooLarge,
                "compressed record batch for \(name) expands to more than \(limit) bytes (at least \(size)); send smaller batches"
            )
        } catch {
            throw StorageError(.corruptRecord, "record batch for \(name) holds malformed records: \(error)")
        }
    }
}
