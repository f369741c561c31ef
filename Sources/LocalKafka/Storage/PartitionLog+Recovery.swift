import Foundation
import KafkaWire
import Logging
import NIOCore

extension PartitionLog {
    /// Opens the partition in `directory` (creating it when new) and recovers it.
    ///
    /// After a clean shutdown the indexes and the producer-state snapshot are trusted and only
    /// each segment's tail after its last index entry is scanned. Otherwise every segment is
    /// scanned, each batch's length, offset continuity and CRC checked; the log is truncated at
    /// the first torn or corrupt batch (later segments are removed), and the indexes and
    /// producer state are rebuilt from what remains.
    static func open(
        topic: String,
        partition: Int32,
        directory: String,
        settings: TopicSettings,
        fsyncPolicy: FsyncPolicy,
        cleanShutdown: Bool,
        logger: Logger
    ) throws(StorageError) -> PartitionLog {
        try DataDirectory.create(directory)
        var logger = logger
        logger[metadataKey: "partition"] = "\(topic)-\(partition)"
        let checkpoint = try readLogStartOffset(directory)
        var bases: [Int64] = []
        for name in DataDirectory.entries(directory) {
            if name.hasSuffix(".tmp") {
                try DataDirectory.remove(directory + "/" + name)
            } else if name.hasSuffix(".log"), let base = Int64(name.dropLast(4)), base >= 0 {
                bases.append(base)
            }
        }
        bases.sort()
        // Indexes without a segment are leftovers of a deletion interrupted by a crash.
        for name in DataDirectory.entries(directory) where name.hasSuffix(".index") {
            if let base = Int64(name.dropLast(6)), !bases.contains(base) {
                try DataDirectory.remove(directory + "/" + name)
            }
        }
        var segments: [LogSegment] = []
        for base in bases { segments.append(try LogSegment(directory: directory, baseOffset: base)) }
        if segments.isEmpty {
            segments.append(try LogSegment(directory: directory, baseOffset: max(0, checkpoint ?? 0)))
            try DataDirectory.sync(directory)
        }

        var producers = ProducerStateTable()
        let snapshot = cleanShutdown ? try readProducerSnapshot(directory) : nil
        var fastPathWorked = snapshot != nil
        if let snapshot {
            producers = snapshot
            for (position, segment) in segments.enumerated() {
                let isLast = position == segments.count - 1
                guard try segment.load(verifyTailCRC: isLast) else {
                    fastPathWorked = false
                    break
                }
                // A compacted segment may end before the next one starts, never after.
                if !isLast, segment.nextOffset > segments[position + 1].baseOffset {
                    fastPathWorked = false
                    break
                }
            }
        }
        if !fastPathWorked {
            if cleanShutdown {
                logger.info("indexes or producer snapshot unusable after clean shutdown; scanning the whole log")
            }
            producers = ProducerStateTable()
            segments = try recoverByScanning(segments, verifyCRC: true, producers: &producers, logger: logger)
        }

        for segment in segments.dropLast() { try segment.seal() }
        let firstBase = segments[0].baseOffset
        let log = PartitionLog(
            topic: topic,
            partition: partition,
            directory: directory,
            settings: settings,
            fsyncPolicy: fsyncPolicy,
            logger: logger,
            segments: segments,
            logStartOffset: min(max(firstBase, checkpoint ?? firstBase), segments[segments.count - 1].nextOffset)
        )
        log.producers = producers
        try log.recoverTransactions(cleanShutdown: fastPathWorked)
        return log
    }

    private static func recoverByScanning(
        _ segments: [LogSegment],
        verifyCRC: Bool,
        producers: inout ProducerStateTable,
        logger: Logger
    ) throws(StorageError) -> [LogSegment] {
        var kept: [LogSegment] = []
        for segment in segments {
            if let previous = kept.last, previous.nextOffset > segment.baseOffset {
                logger.warning(
                    "segment does not continue the log; removing it",
                    metadata: ["segment": "\(segment.logPath)", "expectedBase": "\(previous.nextOffset)"]
                )
                try segment.delete()
                continue
            }
            var visited = producers
            let outcome = try segment.recover(verifyCRC: verifyCRC) { visited.record($0) }
            producers = visited
            kept.append(segment)
            if let problem = outcome.problem {
                logger.warning(
                    "truncating torn or corrupt log tail",
                    metadata: ["segment": "\(segment.logPath)", "validBytes": "\(outcome.validSize)", "problem": "\(problem)"]
                )
                try segment.truncateFile(to: outcome.validSize)
                // Whatever followed a damaged batch can no longer be trusted to line up.
                for later in segments.drop(while: { $0 !== segment }).dropFirst() {
                    logger.warning("removing segment after a truncated one", metadata: ["segment": "\(later.logPath)"])
                    try later.delete()
                }
                break
            }
        }
        return kept
    }

    // MARK: Persisted side files

    static func readLogStartOffset(_ directory: String) throws(StorageError) -> Int64? {
        guard let bytes = try DataDirectory.read(directory + "/" + logStartOffsetFile) else { return nil }
        return Int64(String(buffer: bytes).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func writeLogStartOffset() throws(StorageError) {
        try DataDirectory.writeAtomically(ByteBuffer(string: "\(logStartOffset)\n"), to: directory + "/" + Self.logStartOffsetFile)
    }

    private static func readProducerSnapshot(_ directory: String) throws(StorageError) -> ProducerStateTable? {
        guard let bytes = try DataDirectory.read(directory + "/" + producerSnapshotFile) else { return nil }
        return try? JSONDecoder().decode(ProducerStateTable.self, from: Data(bytes.readableBytesView))
    }

    /// Persists the producer state for the next clean start (valid only with the clean-shutdown marker).
    func writeProducerSnapshot() throws(StorageError) {
        let data: Data
        do {
            data = try JSONEncoder().encode(producers)
        } catch {
            throw StorageError(.corruptMetadata(path: directory), "could not encode producer state of \(topic)-\(partition): \(error)")
        }
        try DataDirectory.writeAtomically(ByteBuffer(bytes: data), to: directory + "/" + Self.producerSnapshotFile)
    }
}
