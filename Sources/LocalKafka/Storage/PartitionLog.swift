import KafkaWire
import Logging
import NIOCore

/// What an append did: the offsets the batches got (or, for a retried duplicate, had got).
public struct AppendResult: Sendable, Equatable {
    public var baseOffset: Int64
    public var lastOffset: Int64
    /// The broker's append time for `LogAppendTime` topics; -1 for `CreateTime` topics.
    public var logAppendTimeMs: Int64
    public var logStartOffset: Int64
    /// True when the batch was a retry of one already in the log: nothing was written.
    public var wasDuplicate: Bool
}

/// What a read returned.
public struct ReadResult: Sendable {
    /// Whole record batches, as stored, starting with the batch holding the requested offset.
    public var records: ByteBuffer
    /// The log end offset: on a single node every appended record is replicated.
    public var highWatermark: Int64
    public var logStartOffset: Int64
}

/// Who is appending: clients may not write control batches, the broker's coordinator does.
public enum AppendOrigin: Sendable {
    case client
    case coordinator
}

/// One partition's log: a directory of segments, the offsets, and idempotent-producer state.
///
/// - Important: not thread-safe; the broker calls it from its single storage isolation domain.
public final class PartitionLog {
    public let topic: String
    public let partition: Int32
    let directory: String
    let fsyncPolicy: FsyncPolicy
    let logger: Logger
    var settings: TopicSettings
    /// Segments by base offset; never empty, the last one is the active segment.
    var segments: [LogSegment]
    var producers = ProducerStateTable()
    /// Open transactions and the aborted transaction index (see `PartitionLog+Transactions`).
    var transactions = PartitionTransactions()
    public internal(set) var logStartOffset: Int64
    /// The last cleaning, so the periodic cleaner skips partitions with nothing new.
    var compactionCheckpoint: CompactionCheckpoint?

    static let logStartOffsetFile = "log-start-offset"
    static let producerSnapshotFile = "producer-state.json"

    init(
        topic: String,
        partition: Int32,
        directory: String,
        settings: TopicSettings,
        fsyncPolicy: FsyncPolicy,
        logger: Logger,
        segments: [LogSegment],
        logStartOffset: Int64
    ) {
        self.topic = topic
        self.partition = partition
        self.directory = directory
        self.settings = settings
        self.fsyncPolicy = fsyncPolicy
        self.logger = logger
        self.segments = segments
        self.logStartOffset = logStartOffset
    }

    var activeSegment: LogSegment { segments[segments.count - 1] }

    /// One past the last appended offset; equal to the high watermark on a single node.
    public var logEndOffset: Int64 { activeSegment.nextOffset }

    /// Bytes of all segments.
    public var sizeInBytes: Int { segments.reduce(0) { $0 + $1.size } }

    // MARK: Append

    /// Validates and appends the concatenated batches of a Produce request.
    ///
    /// Every batch is checked (magic 2, CRC, sizes against `max.message.bytes`, consistent
    /// counts); offsets are assigned by rewriting `baseOffset`, nothing else is changed.
    /// An idempotent producer's retried batch is answered with its original offsets and not
    /// written again. Under `FsyncPolicy.always` the data is on stable storage on return.
    public func append(_ batches: ByteBuffer, nowMs: Int64, origin: AppendOrigin = .client) throws(StorageError) -> AppendResult {
        let split: RecordBatchSequence
        do {
            split = try RecordBatchSequence(splitting: batches)
        } catch {
            throw StorageError(.corruptRecord, "records for \(topic)-\(partition) are not valid v2 record batches: \(error)")
        }
        guard !split.batches.isEmpty else {
            throw StorageError(.corruptRecord, "produce request for \(topic)-\(partition) holds no record batches")
        }
        for batch in split.batches { try validate(batch, origin: origin) }

        // Decide on every batch before writing any, so a rejected request changes nothing.
        var producers = self.producers
        var nextOffset = logEndOffset
        var assigned: [(batch: RecordBatch, header: RecordBatchHeader)] = []
        for batch in split.batches {
            var header = batch.header
            if header.hasProducerId, origin == .client {
                if case .duplicate(let original) = try producers.check(header) {
                    logger.debug(
                        "duplicate batch from idempotent producer answered with its original offsets",
                        metadata: ["partition": "\(topic)-\(partition)", "producerId": "\(header.producerId)"]
                    )
                    return AppendResult(
                        baseOffset: original.firstOffset,
                        lastOffset: original.lastOffset,
                        logAppendTimeMs: settings.logAppendTime ? original.timestamp : -1,
                        logStartOffset: logStartOffset,
                        wasDuplicate: true
                    )
                }
            }
            header.baseOffset = nextOffset
            nextOffset = header.lastOffset + 1
            producers.record(header)
            assigned.append((batch, header))
        }

        try write(assigned)
        self.producers = producers
        for (_, header) in assigned { transactions.recordData(header) }
        guard let first = assigned.first?.header, let last = assigned.last?.header else {
            throw StorageError(.corruptRecord, "produce request for \(topic)-\(partition) holds no record batches")
        }
        return AppendResult(
            baseOffset: first.baseOffset,
            lastOffset: last.lastOffset,
            logAppendTimeMs: settings.logAppendTime ? nowMs : -1,
            logStartOffset: logStartOffset,
            wasDuplicate: false
        )
    }

    private func validate(_ batch: RecordBatch, origin: AppendOrigin) throws(StorageError) {
        let header = batch.header
        let name = "\(topic)-\(partition)"
        guard header.totalSize <= settings.maxMessageBytes else {
            throw StorageError(
                .messageTooLarge,
                "record batch of \(header.totalSize) bytes for \(name) exceeds max.message.bytes=\(settings.maxMessageBytes); send smaller batches or raise the topic's max.message.bytes"
            )
        }
        guard batch.hasValidCRC else {
            throw StorageError(.corruptRecord, "record batch for \(name) fails its CRC-32C check; the producer's data was damaged in transit")
        }
        guard header.compression != nil else {
            throw StorageError(.unsupportedCompressionType, "record batch for \(name) uses unknown compression codec \(header.attributes & 7)")
        }
        guard header.recordsCount > 0, Int64(header.recordsCount) == Int64(header.lastOffsetDelta) + 1 else {
            throw StorageError(
                .invalidRecord,
                "record batch for \(name) declares \(header.recordsCount) records but lastOffsetDelta \(header.lastOffsetDelta)"
            )
        }
        guard !header.isControl || origin == .coordinator else {
            throw StorageError(.invalidRecord, "clients may not produce control batches (to \(name))")
        }
        guard !header.isTransactional || header.hasProducerId else {
            throw StorageError(.invalidRecord, "transactional record batch for \(name) has no producer id")
        }
        let records = try validatedRecordsSection(of: batch)
        try checkKeysForCompaction(batch, records: records)
    }

    private func write(_ assigned: [(batch: RecordBatch, header: RecordBatchHeader)]) throws(StorageError) {
        var touched: [(segment: LogSegment, before: LogSegment.State)] = []
        do {
            for (batch, header) in assigned {
                if needsRoll(before: header) { try roll() }
                let segment = activeSegment
                if touched.last?.segment !== segment { touched.append((segment, segment.state)) }
                var bytes = batch.bytes
                RecordBatchHeader.setBaseOffset(header.baseOffset, in: &bytes, at: bytes.readerIndex)
                try segment.append(bytes, header: header)
            }
            if fsyncPolicy == .always {
                for (segment, _) in touched { try segment.sync() }
            }
        } catch {
            // Leave no half-written request behind: the client retries the whole request.
            for (segment, before) in touched.reversed() { try? segment.rollBack(to: before) }
            logger.error("append failed and was rolled back", metadata: ["partition": "\(topic)-\(partition)", "error": "\(error)"])
            throw error
        }
    }

    private func needsRoll(before header: RecordBatchHeader) -> Bool {
        let active = activeSegment
        guard active.size > 0 else { return false }
        return active.size + header.totalSize > settings.segmentBytes
            || header.lastOffset - active.baseOffset > Int64(Int32.max)
    }

    /// Starts a new active segment at the log end offset.
    func roll() throws(StorageError) {
        // Sealing fsyncs under either policy: a sealed segment's descriptor is closed.
        try activeSegment.seal()
        let segment = try LogSegment(directory: directory, baseOffset: logEndOffset)
        segments.append(segment)
        // The new file's directory entry must survive a crash as well as its contents.
        try DataDirectory.sync(directory)
        logger.debug("rolled segment", metadata: ["partition": "\(topic)-\(partition)", "baseOffset": "\(segment.baseOffset)"])
    }

    // MARK: Read

    /// Reads whole batches from the one holding `offset`, up to about `maxBytes`.
    ///
    /// The first batch is returned whole even when larger than `maxBytes`, so consumers always
    /// make progress; reading stops at the end of a segment.
    /// - Throws: `.offsetOutOfRange` for an offset below `logStartOffset` or above `logEndOffset`.
    public func read(from offset: Int64, maxBytes: Int) throws(StorageError) -> ReadResult {
        guard offset >= logStartOffset, offset <= logEndOffset else {
            throw StorageError(
                .offsetOutOfRange,
                "offset \(offset) is outside \(topic)-\(partition)'s range \(logStartOffset)...\(logEndOffset); reset the consumer to the earliest or latest offset"
            )
        }
        var records = ByteBuffer()
        var segmentIndex = segmentIndex(containing: offset)
        while segmentIndex < segments.count {
            if let found = try segments[segmentIndex].read(from: offset, maxBytes: maxBytes) {
                records = found
                break
            }
            segmentIndex += 1
        }
        return ReadResult(records: records, highWatermark: logEndOffset, logStartOffset: logStartOffset)
    }

    /// Index of the last segment whose base offset is at or below `offset`.
    func segmentIndex(containing offset: Int64) -> Int {
        var low = 0
        var high = segments.count
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
        }
        return max(0, low - 1)
    }

    // MARK: Durability

    /// Fsyncs every segment with unsynced writes.
    public func flush() throws(StorageError) {
        for segment in segments { try segment.sync() }
    }

    func close() {
        for segment in segments { segment.close() }
    }
}
