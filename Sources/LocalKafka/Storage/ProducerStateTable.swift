import KafkaWire

/// Idempotent-producer state of one partition: per producer id, the latest epoch and the
/// sequence ranges of its last five batches, as Kafka keeps them.
///
/// A pure value: `check` decides, `record` applies, and the partition log does the I/O. Rebuilt
/// from the log's batch headers on recovery (or loaded from the snapshot written at clean shutdown).
struct ProducerStateTable: Equatable, Codable {
    /// How many batches per producer are remembered for duplicate detection (Kafka: 5, the
    /// most in-flight requests an idempotent producer may have).
    static let retainedBatches = 5

    struct BatchMetadata: Equatable, Codable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
        var timestamp: Int64
    }

    struct Entry: Equatable, Codable {
        var epoch: Int16
        var batches: [BatchMetadata]
    }

    private(set) var producers: [Int64: Entry] = [:]

    enum Verdict: Equatable {
        /// A new batch: append it.
        case append
        /// A retry of a batch already in the log: answer with its original offsets.
        case duplicate(BatchMetadata)
    }

    /// Decides what to do with a batch from an idempotent or transactional producer.
    func check(_ header: RecordBatchHeader) throws(StorageError) -> Verdict {
        guard let entry = producers[header.producerId] else { return .append }
        if header.producerEpoch < entry.epoch {
            throw StorageError(
                .invalidProducerEpoch,
                "producer \(header.producerId) used epoch \(header.producerEpoch) but epoch \(entry.epoch) is current; a newer instance of this producer exists (fenced)"
            )
        }
        if header.producerEpoch > entry.epoch {
            guard header.baseSequence == 0 else {
                throw StorageError(
                    .outOfOrderSequence,
                    "producer \(header.producerId) started epoch \(header.producerEpoch) at sequence \(header.baseSequence) instead of 0"
                )
            }
            return .append
        }
        if let original = entry.batches.first(where: {
            $0.firstSequence == header.baseSequence && $0.lastSequence == header.lastSequence
        }) {
            return .duplicate(original)
        }
        guard let last = entry.batches.last else { return .append }
        let expected = last.lastSequence == Int32.max ? 0 : last.lastSequence + 1
        guard header.baseSequence == expected else {
            throw StorageError(
                .outOfOrderSequence,
                "producer \(header.producerId) epoch \(header.producerEpoch) sent sequence \(header.baseSequence) but \(expected) was expected; batches were lost or reordered in flight"
            )
        }
        return .append
    }

    /// Records an appended batch (with its assigned offsets) from a producer.
    mutating func record(_ header: RecordBatchHeader) {
        guard header.hasProducerId else { return }
        var entry = producers[header.producerId] ?? Entry(epoch: header.producerEpoch, batches: [])
        if header.producerEpoch != entry.epoch {
            entry = Entry(epoch: header.producerEpoch, batches: [])
        }
        // Control batches (transaction markers) carry no sequence; they only confirm the epoch.
        if !header.isControl, header.baseSequence >= 0 {
            entry.batches.append(
                BatchMetadata(
                    firstSequence: header.baseSequence,
                    lastSequence: header.lastSequence,
                    firstOffset: header.baseOffset,
                    lastOffset: header.lastOffset,
                    timestamp: header.maxTimestamp
                )
            )
            if entry.batches.count > Self.retainedBatches {
                entry.batches.removeFirst(entry.batches.count - Self.retainedBatches)
            }
        }
        producers[header.producerId] = entry
    }
}
