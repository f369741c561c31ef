import NIOCore

/// One entry of a segment's sparse index.
struct OffsetIndexEntry: Equatable {
    /// Base offset of the indexed batch, relative to the segment's base offset.
    var relativeOffset: UInt32
    /// Byte position of that batch in the segment file.
    var position: UInt32
    /// Largest timestamp of all batches before this one in the segment (-1 when none), so a
    /// timestamp search can skip every entry whose predecessors are all older than its target.
    var maxTimestampBefore: Int64
}

/// A segment's sparse index (`<base>.index`): an entry about every 4 KiB of log, mapping a
/// batch's relative offset to its file position and carrying the timestamps seen so far.
///
/// Entries are 16 bytes, big-endian: `relativeOffset:uint32 position:uint32 maxTimestampBefore:int64`.
/// The index is derived data: it is not fsynced, and recovery rebuilds it whenever it cannot be
/// trusted (no clean shutdown, or entries that fail validation).
final class OffsetIndex {
    static let entrySize = 16
    /// Log bytes between index entries.
    static let interval = 4096

    private(set) var entries: [OffsetIndexEntry] = []
    let path: String
    /// Open while the segment is written; sealed segments keep only the entries in memory.
    private var openFile: StorageFile?

    init(path: String) throws(StorageError) {
        self.path = path
        openFile = try StorageFile.open(path, create: true)
    }

    private func file() throws(StorageError) -> StorageFile {
        if let openFile { return openFile }
        let file = try StorageFile.open(path, create: true)
        openFile = file
        return file
    }

    /// Closes the file; later writes reopen it.
    func seal() {
        openFile?.close()
        openFile = nil
    }

    /// Loads the entries on disk; false (and nothing loaded) when they are inconsistent with a
    /// segment of `segmentSize` bytes.
    func load(segmentSize: Int) throws(StorageError) -> Bool {
        let file = try file()
        let size = try file.size()
        guard size % Self.entrySize == 0 else { return false }
        var bytes = try file.read(at: 0, length: size)
        var loaded: [OffsetIndexEntry] = []
        loaded.reserveCapacity(size / Self.entrySize)
        while let relative: UInt32 = bytes.readInteger(), let position: UInt32 = bytes.readInteger(),
            let timestamp: Int64 = bytes.readInteger()
        {
            let entry = OffsetIndexEntry(relativeOffset: relative, position: position, maxTimestampBefore: timestamp)
            if let last = loaded.last {
                guard entry.relativeOffset > last.relativeOffset, entry.position > last.position else { return false }
            } else {
                guard entry.position == 0 else { return false }
            }
            guard Int(entry.position) < segmentSize else { return false }
            loaded.append(entry)
        }
        guard loaded.isEmpty == (segmentSize == 0) else { return false }
        entries = loaded
        return true
    }

    /// Records the batch at `position` if it starts a new ~4 KiB stretch of the segment.
    func batchAppended(relativeOffset: UInt32, position: Int, maxTimestampBefore: Int64) throws(StorageError) {
        if let last = entries.last, position - Int(last.position) < Self.interval { return }
        let entry = OffsetIndexEntry(
            relativeOffset: relativeOffset,
            position: UInt32(truncatingIfNeeded: position),
            maxTimestampBefore: maxTimestampBefore
        )
        var bytes = ByteBuffer()
        bytes.writeInteger(entry.relativeOffset)
        bytes.writeInteger(entry.position)
        bytes.writeInteger(entry.maxTimestampBefore)
        try file().write(bytes, at: entries.count * Self.entrySize)
        entries.append(entry)
    }

    /// The last entry at or before `relativeOffset`.
    func entry(atOrBefore relativeOffset: UInt32) -> OffsetIndexEntry? {
        lastEntry { $0.relativeOffset <= relativeOffset }
    }

    /// The last entry all of whose predecessors are older than `timestamp`: the search starts there.
    func entry(beforeTimestamp timestamp: Int64) -> OffsetIndexEntry? {
        lastEntry { $0.maxTimestampBefore < timestamp }
    }

    /// Forgets entries for positions at or after `position`.
    func truncate(toPosition position: Int) throws(StorageError) {
        let kept = entries.prefix { Int($0.position) < position }.count
        entries.removeLast(entries.count - kept)
        try file().truncate(to: kept * Self.entrySize)
    }

    /// Binary search over an order where `isBefore` holds for a prefix of the entries.
    private func lastEntry(where isBefore: (OffsetIndexEntry) -> Bool) -> OffsetIndexEntry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if isBefore(entries[middle]) { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : entries[low - 1]
    }
}
