import Dispatch
import DurableFiles
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an outbox entry's file could not be read: the `errno` of the failing call.
public struct OutboxReadFailure: Error, Sendable, CustomStringConvertible {
    public var errno: Int32
    public init(errno: Int32) { self.errno = errno }
    public var description: String { String(cString: strerror(errno)) }
}

/// One pending alert in an outbox.
public struct OutboxEntry: Sendable {
    /// Its position: entries are delivered in increasing sequence.
    public var sequence: UInt64
    public var alert: Alert
}

/// The alerts one webhook still has to receive, one file each in a directory of its own
/// (`<data_dir>/alerts/<webhook>/<sequence>.json`).
///
/// - Important: `append` returns only after the file and its directory entry are fsynced, so an
///   alert that was appended survives a crash; a restart finds pending alerts in order. Files are
///   written under a temporary name and renamed, so a crash never leaves a half-written entry
///   under a final name; entries that do not decode anyway (disk damage, hand edits) are renamed
///   to `*.corrupt` with a warning and skipped. At most `maximumPending` entries are kept: the
///   oldest are dropped with a warning, so a receiver that is down for days cannot fill the disk.
///
/// File operations block; the methods are called from one delivery loop and the dispatcher,
/// each on a dispatch queue of its own (see `AlertDispatcher`).
public final class AlertOutbox: Sendable {
    public let directory: String
    public let maximumPending: Int
    private let logger: Logger
    /// Sequences of the entries on disk, oldest first.
    private let pending: Mutex<(sequences: [UInt64], next: UInt64)>
    private let readEntry: @Sendable (String) throws(OutboxReadFailure) -> [UInt8]

    /// Opens (creating if needed) the outbox in `directory` and finds the entries already there.
    /// - Parameter read: reads one entry's file (tests inject failures; the default reads it
    ///   with `open`/`read`).
    /// - Throws: `AlertError` when the directory cannot be created or listed.
    public init(
        directory: String, maximumPending: Int = 1000, logger: Logger,
        read: @escaping @Sendable (String) throws(OutboxReadFailure) -> [UInt8] = AlertOutbox.readFile
    ) throws(AlertError) {
        self.directory = directory
        self.readEntry = read
        self.maximumPending = max(1, maximumPending)
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw AlertError("cannot create the alert outbox \(directory): \(error.localizedDescription); check that data_dir is writable")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw AlertError("cannot list the alert outbox \(directory): \(error.localizedDescription)")
        }
        var sequences: [UInt64] = []
        for name in names {
            if name.hasPrefix(".tmp-") {
                // A write that crashed before its rename: never acknowledged, so never delivered.
                unlink(directory + "/" + name)
            } else if name.hasSuffix(".json"), let sequence = UInt64(name.dropLast(".json".count)) {
                sequences.append(sequence)
            }
        }
        sequences.sort()
        pending = Mutex((sequences, (sequences.last ?? 0) &+ 1))
    }

    /// How many alerts wait for delivery.
    public var depth: Int { pending.withLock { $0.sequences.count } }

    private func path(_ sequence: UInt64) -> String {
        directory + "/" + String(format: "%020llu", sequence) + ".json"
    }

    /// Stores `alert` durably behind the entries already pending, dropping the oldest if full.
    /// - Throws: `AlertError` when the entry cannot be written and fsynced.
    public func append(_ alert: Alert) throws(AlertError) {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Alert.encoder().encode(alert))
        } catch {
            throw AlertError("cannot encode alert \(alert.id): \(error)")
        }
        let sequence = pending.withLock { state in
            defer { state.next &+= 1 }
            return state.next
        }
        let temporary = directory + "/.tmp-\(sequence)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw AlertError("cannot write the alert outbox \(directory): \(String(cString: strerror(errno))); check the disk and data_dir permissions")
        }
        var failure: String?
        do {
            try DurableFile.writeAllAndSync(fd, bytes)
        } catch {
            failure = error.reason
        }
        close(fd)
        if failure == nil, rename(temporary, path(sequence)) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw AlertError("cannot store alert \(alert.id) in \(directory): \(failure); check free space on the data_dir disk")
        }
        // The rename is durable only with the directory's entry. Should that fsync fail, the
        // alert is stored and will be delivered; only a crash in the next moment could lose it.
        try? DurableFile.syncDirectory(directory)
        let dropped = pending.withLock { state -> [UInt64] in
            state.sequences.append(sequence)
            let excess = state.sequences.count - maximumPending
            guard excess > 0 else { return [] }
            defer { state.sequences.removeFirst(excess) }
            return Array(state.sequences.prefix(excess))
        }
        for sequence in dropped { unlink(path(sequence)) }
        if !dropped.isEmpty {
            logger.warning(
                "alert outbox full; dropped the oldest undelivered alerts",
                metadata: ["outbox": "\(directory)", "dropped": "\(dropped.count)", "limit": "\(maximumPending)"])
        }
    }

    /// The oldest pending alert, skipping (and setting aside) entries that do not decode.
    ///
    /// Only content that does not decode is corrupt. A file that cannot be read — no
    /// descriptor left (EMFILE, ENFILE), an I/O error, a permission changed by hand — may read
    /// fine in a moment, so the entry stays pending and the caller retries later: an attack
    /// that exhausts descriptors must not turn into alerts lost.
    /// - Throws: `AlertError` when the oldest entry cannot be read now.
    public func oldest() throws(AlertError) -> OutboxEntry? {
        while let sequence = pending.withLock({ $0.sequences.first }) {
            let file = path(sequence)
            let bytes: [UInt8]
            do {
                bytes = try readEntry(file)
            } catch where error.errno == ENOENT {
                // Removed behind our back (by hand, or dropped by the bound meanwhile).
                pending.withLock { state in state.sequences.removeAll { $0 == sequence } }
                continue
            } catch {
                throw AlertError("cannot read the alert outbox entry \(file) now (\(error)); it stays pending and is retried")
            }
            do {
                return OutboxEntry(sequence: sequence, alert: try Alert.decoder().decode(Alert.self, from: Data(bytes)))
            } catch {
                logger.warning("skipping an unreadable alert outbox entry", metadata: ["file": "\(file)", "error": "\(error)"])
                rename(file, file + ".corrupt")
                pending.withLock { state in state.sequences.removeAll { $0 == sequence } }
            }
        }
        return nil
    }

    /// Reads the whole file at `path`.
    public static func readFile(_ path: String) throws(OutboxReadFailure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OutboxReadFailure(errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw OutboxReadFailure(errno: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Forgets a delivered (or undeliverable) entry.
    public func remove(_ entry: OutboxEntry) {
        let known = pending.withLock { state -> Bool in
            guard let index = state.sequences.firstIndex(of: entry.sequence) else { return false }
            state.sequences.remove(at: index)
            return true
        }
        // Dropped meanwhile by the bound: its file is already gone.
        if known { unlink(path(entry.sequence)) }
    }
}
