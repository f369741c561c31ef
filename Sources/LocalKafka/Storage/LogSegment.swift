import KafkaWire
import NIOCore

/// One segment of a partition log: `<base>.log` holding record batches exactly as produced
/// (with their assigned `baseOffset`), and its sparse `<base>.index`.
///
/// Only the active segment keeps its files open; a sealed segment opens its log per read, so a
/// long log does not hold two descriptors per segment (macOS allows a process 256 by default).
///
/// - Important: not thread-safe; owned by one `PartitionLog`.
final class LogSegment {
    let baseOffset: Int64
    let logPath: String
    private var openLog: StorageFile?
    let index: OffsetIndex
    /// Bytes of whole, validated batches.
    private(set) var size: Int = 0
    /// One past the last offset in the segment (== `baseOffset` when empty).
    private(set) var nextOffset: Int64
    /// Largest batch `maxTimestamp` in the segment, -1 when empty.
    private(set) var maxTimestamp: Int64 = -1
    /// Whether bytes were written since the last fsync.
    private(set) var hasUnsyncedWrites = false

    /// File name of a segment with `baseOffset`: 20 digits, zero-padded, so names sort by offset.
    static func fileName(_ baseOffset: Int64, _ suffix: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// Opens (or creates) the segment's files; its contents are trusted only after `recover`
    /// or `load`.
    init(directory: String, baseOffset: Int64) throws(StorageError) {
        self.baseOffset = baseOffset
        nextOffset = baseOffset
        logPath = directory + "/" + Self.fileName(baseOffset, ".log")
        openLog = try StorageFile.open(logPath, create: true)
        index = try OffsetIndex(path: directory + "/" + Self.fileName(baseOffset, ".index"))
    }

    /// Runs `body` with the log file: the open one, or one opened just for `body` when sealed.
    private func withLog<T>(_ body: (StorageFile) throws(StorageError) -> T) throws(StorageError) -> T {
        if let openLog { return try body(openLog) }
        let file = try StorageFile.open(logPath, create: false)
        defer { file.close() }
        return try body(file)
    }

    /// The log file kept open for writing (reopened if the segment was sealed).
    private func writableLog() throws(StorageError) -> StorageFile {
        if let openLog { return openLog }
        let file = try StorageFile.open(logPath, create: false)
        openLog = file
        return file
    }

    /// Fsyncs and closes the files of a segment that is no longer written to.
    func seal() throws(StorageError) {
        try sync()
        openLog?.close()
        openLog = nil
        index.seal()
    }

    /// How a scan of the segment file ended.
    struct ScanOutcome {
        /// End of the last valid batch.
        var validSize: Int
        /// Why the scan stopped before the end of the file, if it did.
        var problem: String?
    }

    /// Validates the whole file batch by batch, rebuilding the index; stops at the first torn
    /// or corrupt batch (the caller decides whether to truncate there).
    func recover(verifyCRC: Bool, visit: (RecordBatchHeader) -> Void) throws(StorageError) -> ScanOutcome {
        try index.truncate(toPosition: 0)
        size = 0
        nextOffset = baseOffset
        maxTimestamp = -1
        return try scan(from: 0, verifyCRC: verifyCRC, rebuildIndex: true, visit: visit)
    }

    /// Trusts the index written before a clean shutdown and scans only the tail after its last
    /// entry; false when the index is unusable and `recover` must be used.
    func load(verifyTailCRC: Bool) throws(StorageError) -> Bool {
        let fileSize = try withLog { file throws(StorageError) in try file.size() }
        guard try index.load(segmentSize: fileSize) else { return false }
        guard let last = index.entries.last else { return true }
        size = Int(last.position)
        nextOffset = baseOffset + Int64(last.relativeOffset)
        maxTimestamp = last.maxTimestampBefore
        let outcome = try scan(from: size, verifyCRC: verifyTailCRC, rebuildIndex: false) { _ in }
        return outcome.problem == nil && outcome.validSize == fileSize
    }

    private func scan(
        from start: Int,
        verifyCRC: Bool,
        rebuildIndex: Bool,
        visit: (RecordBatchHeader) -> Void
    ) throws(StorageError) -> ScanOutcome {
        try withLog { log throws(StorageError) in
            try scan(log, from: start, verifyCRC: verifyCRC, rebuildIndex: rebuildIndex, visit: visit)
        }
    }

    private func scan(
        _ log: StorageFile,
        from start: Int,
        verifyCRC: Bool,
        rebuildIndex: Bool,
        visit: (RecordBatchHeader) -> Void
    ) throws(StorageError) -> ScanOutcome {
        let fileSize = try log.size()
        var position = start
        while position < fileSize {
            let headerBytes = try log.read(at: position, length: RecordBatchHeader.size)
            let header: RecordBatchHeader
            do {
                header = try RecordBatchHeader(parsing: headerBytes, at: headerBytes.readerIndex)
            } catch {
                return ScanOutcome(validSize: position, problem: "invalid batch header at byte \(position): \(error)")
            }
            guard header.totalSize <= fileSize - position else {
                return ScanOutcome(validSize: position, problem: "batch at byte \(position) is cut off (torn write)")
            }
            // Compaction leaves gaps where whole batches were removed; offsets only ever grow.
            guard header.baseOffset >= nextOffset else {
                return ScanOutcome(
                    validSize: position,
                    problem: "batch at byte \(position) has base offset \(header.baseOffset), below the expected \(nextOffset)"
                )
            }
            if verifyCRC {
                let batch = try log.read(at: position, length: header.totalSize)
                guard (try? RecordBatchHeader.verifyCRC(in: batch, at: batch.readerIndex)) == true else {
                    return ScanOutcome(validSize: position, problem: "batch at byte \(position) fails its CRC")
                }
            }
            if rebuildIndex {
                try index.batchAppended(
                    relativeOffset: UInt32(truncatingIfNeeded: header.baseOffset - baseOffset),
                    position: position,
                    maxTimestampBefore: maxTimestamp
                )
            }
            visit(header)
            position += header.totalSize
            size = position
            nextOffset = header.lastOffset + 1
            maxTimestamp = max(maxTimestamp, header.maxTimestamp)
        }
        return ScanOutcome(validSize: position, problem: nil)
    }

    /// Appends one batch, already carrying its assigned offsets.
    func append(_ batch: ByteBuffer, header: RecordBatchHeader) throws(StorageError) {
        try writableLog().write(batch, at: size)
        hasUnsyncedWrites = true
        try index.batchAppended(
            relativeOffset: UInt32(truncatingIfNeeded: header.baseOffset - baseOffset),
            position: size,
            maxTimestampBefore: maxTimestamp
        )
        size += batch.readableBytes
        nextOffset = header.lastOffset + 1
        maxTimestamp = max(maxTimestamp, header.maxTimestamp)
    }

    /// What `rollBack(to:)` restores.
    struct State {
        var size: Int
        var nextOffset: Int64
        var maxTimestamp: Int64
    }

    var state: State { State(size: size, nextOffset: nextOffset, maxTimestamp: maxTimestamp) }

    /// Cuts the segment back to an earlier state, undoing a failed append.
    func rollBack(to state: State) throws(StorageError) {
        try writableLog().truncate(to: state.size)
        try index.truncate(toPosition: state.size)
        size = state.size
        nextOffset = state.nextOffset
        maxTimestamp = state.maxTimestamp
        hasUnsyncedWrites = true
    }

    /// Truncates the file to `validSize` bytes after `recover` reported a problem.
    func truncateFile(to validSize: Int) throws(StorageError) {
        let log = try writableLog()
        try log.truncate(to: validSize)
        try log.sync()
    }

    func read(at position: Int, length: Int) throws(StorageError) -> ByteBuffer {
        let length = max(0, min(length, size - position))
        return try withLog { log throws(StorageError) in try log.read(at: position, length: length) }
    }

    /// The header of the batch at `position`.
    func header(at position: Int) throws(StorageError) -> RecordBatchHeader {
        try withLog { log throws(StorageError) in try Self.header(in: log, at: position) }
    }

    private static func header(in log: StorageFile, at position: Int) throws(StorageError) -> RecordBatchHeader {
        let bytes = try log.read(at: position, length: RecordBatchHeader.size)
        do {
            return try RecordBatchHeader(parsing: bytes, at: bytes.readerIndex)
        } catch {
            throw StorageError(.corruptRecord, "segment \(log.path) holds an invalid batch at byte \(position): \(error); restart the broker to recover the log")
        }
    }

    /// Reads the batch holding `offset` (or the first batch after it) and up to `maxBytes` of
    /// whole batches after it, in one open of the file. Nil when the segment ends before `offset`.
    func read(from offset: Int64, maxBytes: Int) throws(StorageError) -> ByteBuffer? {
        let relative = UInt32(clamping: max(0, offset - baseOffset))
        let start = Int(index.entry(atOrBefore: relative)?.position ?? 0)
        let size = self.size
        return try withLog { log throws(StorageError) -> ByteBuffer? in
            var position = start
            while position < size {
                let header = try Self.header(in: log, at: position)
                if header.lastOffset >= offset {
                    // The first batch is whole even beyond maxBytes, so consumers make progress.
                    let wanted = max(header.totalSize, min(maxBytes, size - position))
                    return Self.wholeBatches(of: try log.read(at: position, length: min(wanted, size - position)))
                }
                position += header.totalSize
            }
            return nil
        }
    }

    /// The prefix of `chunk` made of whole batches.
    private static func wholeBatches(of chunk: ByteBuffer) -> ByteBuffer {
        var end = chunk.readerIndex
        while let length: Int32 = chunk.getInteger(at: end + 8) {
            let next = end + RecordBatchHeader.lengthPrefixSize + Int(length)
            guard length > 0, next <= chunk.writerIndex else { break }
            end = next
        }
        return chunk.getSlice(at: chunk.readerIndex, length: end - chunk.readerIndex) ?? ByteBuffer()
    }

    func sync() throws(StorageError) {
        guard hasUnsyncedWrites, let openLog else { return }
        try openLog.sync()
        hasUnsyncedWrites = false
    }

    func close() {
        openLog?.close()
        openLog = nil
        index.seal()
    }

    /// Closes and removes both files.
    func delete() throws(StorageError) {
        let indexPath = index.path
        close()
        try DataDirectory.remove(logPath)
        try DataDirectory.remove(indexPath)
    }
}
