#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The local cache of a flow's offset map: an append-only file of ``OffsetMapUpdate`` lines
/// (format: ``OffsetMapFileFormat``), so translation works from local disk while the source
/// site is down.
///
/// Crash safety:
/// - Appends write whole lines in one `write`; a crash can leave only a torn *tail* (a partial
///   line, or lines whose checksum fails, at the end). Loading ignores that tail and cuts it off
///   before the next append. An invalid line *followed by valid ones* is real corruption and is
///   reported, never skipped silently.
/// - A failed append truncates the file back to its previous length, so a later append never
///   lands behind half a line.
/// - Compaction writes the whole map to `<path>.tmp`, fsyncs it, renames it over the file and
///   fsyncs the directory: a crash leaves either the old file or the new one.
///
/// Fsync policy (``SyncPolicy``): `.everyAppend` (default) fsyncs after each append call — the
/// flow appends one batch of coalesced updates per interval, so this is one fsync per batch, not
/// per record. `.never` leaves flushing to the OS, acceptable because the internal topic on the
/// target cluster is the record of truth and a lost cache tail is rebuilt from it.
///
/// - Important: Not thread-safe; one owner (the flow) uses it at a time.
public final class OffsetMapFile {
    /// When appended lines are forced to disk.
    public enum SyncPolicy: Hashable, Sendable {
        /// `fsync` after every ``OffsetMapFile/append(_:)`` call.
        case everyAppend
        /// Never `fsync` appends (compaction always does).
        case never
    }

    /// What ``OffsetMapFile/open(path:flow:sync:)`` found.
    public struct Loaded {
        /// The open file, ready for appends.
        public let file: OffsetMapFile
        /// The map the file holds.
        public let map: OffsetMap
        /// Bytes of a torn tail that were ignored and cut off (0 after a clean shutdown).
        public let discardedTailBytes: Int
        /// Valid update lines read (excluding the header).
        public let updateLines: Int
    }

    /// The file's path.
    public let path: String
    /// The flow whose map the file holds.
    public let flow: FlowID
    /// When appends are forced to disk.
    public let syncPolicy: SyncPolicy
    /// Update lines in the file beyond what the last compaction wrote; compact when this grows
    /// well past ``OffsetMap/rangeCount``.
    public private(set) var linesSinceCompaction = 0

    private var descriptor: Int32
    private var size: Int

    private init(path: String, flow: FlowID, syncPolicy: SyncPolicy, descriptor: Int32, size: Int) {
        self.path = path
        self.flow = flow
        self.syncPolicy = syncPolicy
        self.descriptor = descriptor
        self.size = size
    }

    deinit { close() }

    /// Opens (creating it when missing) the cache file of `flow` and loads its map.
    /// - Throws: ``MirrorError/Code/malformedOffsetMap`` for corruption other than a torn tail or
    ///   a file of another flow; ``MirrorError/Code/storage`` when the file cannot be read or written.
    public static func open(path: String, flow: FlowID, sync: SyncPolicy = .everyAppend) throws(MirrorError) -> Loaded {
        var descriptor = systemOpen(path, O_RDWR | O_APPEND | O_CLOEXEC)
        if descriptor < 0 {
            guard errno == ENOENT else { throw storageError("open", path) }
            try writeAtomically(OffsetMapFileFormat.headerLine(for: flow), to: path)
            descriptor = systemOpen(path, O_RDWR | O_APPEND | O_CLOEXEC)
            guard descriptor >= 0 else { throw storageError("open", path) }
        }
        let file = OffsetMapFile(path: path, flow: flow, syncPolicy: sync, descriptor: descriptor, size: 0)
        let bytes = try file.readAll()
        let parsed = try parse(bytes, flow: flow, path: path)
        file.size = parsed.validLength
        if parsed.validLength == 0 {
            // Nothing usable, not even the header (an empty or wholly torn file): start afresh.
            try file.compact(to: OffsetMap(flow: flow))
        } else if parsed.validLength < bytes.count {
            guard ftruncate(descriptor, off_t(parsed.validLength)) == 0, fsync(descriptor) == 0 else {
                throw storageError("cut the torn tail of", path)
            }
        }
        file.linesSinceCompaction = parsed.updateLines
        return Loaded(file: file, map: parsed.map, discardedTailBytes: bytes.count - parsed.validLength,
                      updateLines: parsed.updateLines)
    }

    /// Reads the map in the file at `path` without changing the file (a torn tail is ignored,
    /// not cut): for readers beside a running flow, such as offset translation.
    /// - Returns: `nil` when there is no file.
    public static func read(path: String, flow: FlowID) throws(MirrorError) -> OffsetMap? {
        let descriptor = systemOpen(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            guard errno == ENOENT else { throw storageError("open", path) }
            return nil
        }
        let file = OffsetMapFile(path: path, flow: flow, syncPolicy: .never, descriptor: descriptor, size: 0)
        defer { file.close() }
        return try parse(try file.readAll(), flow: flow, path: path).map
    }

    /// Appends updates (one line each), fsyncing per ``syncPolicy``.
    /// - Throws: ``MirrorError/Code/storage`` (retriable); the file is left as it was before the call.
    public func append(_ updates: [OffsetMapUpdate]) throws(MirrorError) {
        guard !updates.isEmpty else { return }
        guard descriptor >= 0 else { throw MirrorError(.storage, "offset-map file \(path) is closed") }
        var bytes: [UInt8] = []
        for update in updates {
            guard update.flow == flow else {
                throw MirrorError(.offsetMapConflict, "update for flow \(update.flow) offered to the file of flow \(flow)")
            }
            bytes += OffsetMapFileFormat.line(for: update)
        }
        do throws(MirrorError) {
            try Self.writeAll(bytes, to: descriptor, path: path)
            if syncPolicy == .everyAppend, fsync(descriptor) != 0 { throw Self.storageError("fsync", path) }
        } catch {
            _ = ftruncate(descriptor, off_t(size))
            throw error
        }
        size += bytes.count
        linesSinceCompaction += updates.count
    }

    /// Replaces the file's contents with `map`'s snapshot, atomically (temp file, fsync, rename,
    /// directory fsync).
    public func compact(to map: OffsetMap) throws(MirrorError) {
        guard map.flow == flow else {
            throw MirrorError(.offsetMapConflict, "map of flow \(map.flow) offered to the file of flow \(flow)")
        }
        let bytes = OffsetMapFileFormat.snapshot(of: map)
        try Self.writeAtomically(bytes, to: path)
        let reopened = Self.systemOpen(path, O_RDWR | O_APPEND | O_CLOEXEC)
        guard reopened >= 0 else { throw Self.storageError("reopen", path) }
        close()
        descriptor = reopened
        size = bytes.count
        linesSinceCompaction = 0
    }

    /// Closes the file; later appends throw.
    public func close() {
        if descriptor >= 0 {
            _ = Self.systemClose(descriptor)
            descriptor = -1
        }
    }

    // MARK: Loading

    private struct Parsed {
        var map: OffsetMap
        var validLength: Int
        var updateLines: Int
    }

    private static func parse(_ bytes: [UInt8], flow: FlowID, path: String) throws(MirrorError) -> Parsed {
        // Each complete line: where it ends, and its update (nil when the line is invalid).
        var lines: [(end: Int, valid: Bool, update: OffsetMapUpdate?)] = []
        var start = 0
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let payload = OffsetMapFileFormat.verifiedPayload(bytes[start..<newline])
            if lines.isEmpty {
                if let payload, let fileFlow = OffsetMapFileFormat.flow(inHeader: payload) {
                    guard fileFlow == flow else {
                        throw MirrorError(.malformedOffsetMap, "offset-map file \(path) belongs to flow \(fileFlow), "
                            + "not \(flow); point this flow at its own file")
                    }
                    lines.append((newline + 1, true, nil))
                } else {
                    lines.append((newline + 1, false, nil))
                }
            } else {
                let update = payload.flatMap { OffsetMapFileFormat.update(in: $0, flow: flow) }
                lines.append((newline + 1, update != nil, update))
            }
            start = newline + 1
        }
        guard let lastValid = lines.lastIndex(where: { $0.valid }) else {
            return Parsed(map: OffsetMap(flow: flow), validLength: 0, updateLines: 0)
        }
        if let firstInvalid = lines[...lastValid].firstIndex(where: { !$0.valid }) {
            throw corrupt(path, "line \(firstInvalid + 1) is damaged but later lines are intact")
        }
        var map = OffsetMap(flow: flow)
        for index in 1..<(lastValid + 1) {
            guard let update = lines[index].update else { continue }
            do {
                try map.apply(update)
            } catch {
                throw corrupt(path, "line \(index + 1) contradicts earlier lines: \(error.message)")
            }
        }
        return Parsed(map: map, validLength: lines[lastValid].end, updateLines: lastValid)
    }

    private func readAll() throws(MirrorError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var position: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in pread(descriptor, buffer.baseAddress, buffer.count, position) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.storageError("read", path)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            position += off_t(count)
        }
    }

    // MARK: System calls

    /// Replaces the file at `path` with `bytes` so that a crash leaves the old file or the new
    /// one, never a mix: `<path>.tmp`, fsync, rename, fsync of the directory. Also used for other
    /// small files of the data directory (`kind` names the file in errors).
    static func writeAtomically(_ bytes: [UInt8], to path: String, kind: String = "offset-map file") throws(MirrorError) {
        let temporary = path + ".tmp"
        let descriptor = systemOpen(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw storageError("create", temporary, kind) }
        do throws(MirrorError) {
            try writeAll(bytes, to: descriptor, path: temporary, kind: kind)
            guard fsync(descriptor) == 0 else { throw storageError("fsync", temporary, kind) }
        } catch {
            _ = systemClose(descriptor)
            _ = unlink(temporary)
            throw error
        }
        _ = systemClose(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = storageError("rename \(temporary) over", path, kind)
            _ = unlink(temporary)
            throw error
        }
        let directory = systemOpen(directoryName(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw storageError("open the directory of", path, kind) }
        defer { _ = systemClose(directory) }
        guard fsync(directory) == 0 else { throw storageError("fsync the directory of", path, kind) }
    }

    private static func writeAll(
        _ bytes: [UInt8], to descriptor: Int32, path: String, kind: String = "offset-map file"
    ) throws(MirrorError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw storageError("write", path, kind)
            }
            written += count
        }
    }

    private static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        #if canImport(Darwin)
        Darwin.open(path, flags, mode)
        #elseif canImport(Musl)
        Musl.open(path, flags, mode)
        #else
        Glibc.open(path, flags, mode)
        #endif
    }

    private static func systemClose(_ descriptor: Int32) -> Int32 {
        #if canImport(Darwin)
        Darwin.close(descriptor)
        #elseif canImport(Musl)
        Musl.close(descriptor)
        #else
        Glibc.close(descriptor)
        #endif
    }

    private static func storageError(_ operation: String, _ path: String, _ kind: String = "offset-map file") -> MirrorError {
        let reason = String(cString: strerror(errno))
        return MirrorError(.storage, "cannot \(operation) \(kind) \(path): \(reason); check the data "
            + "directory's permissions and free space", isRetriable: true)
    }

    private static func corrupt(_ path: String, _ problem: String) -> MirrorError {
        MirrorError(.malformedOffsetMap, "offset-map file \(path) is corrupt: \(problem); move it aside — the map "
            + "is rebuilt from the offset-map topic on the target cluster")
    }
}
