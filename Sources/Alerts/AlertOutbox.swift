import Dispatch
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

    /// Opens (creating if needed) the outbox in `directory` and finds the entries already there.
    /// - Throws: `AlertError` when the directory cannot be created or listed.
    public init(directory: String, maximumPending: Int = 1000, logger: Logger) throws(AlertError) {
        self.directory = directory
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
        let written = Self.writeAll(fd, bytes)
        let synced = fsync(fd) == 0
        close(fd)
        guard written, synced, rename(temporary, path(sequence)) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AlertError("cannot store alert \(alert.id) in \(directory): \(reason); check free space on the data_dir disk")
        }
        Self.syncDirectory(directory)
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
    public func oldest() -> OutboxEntry? {
        while let sequence = pending.withLock({ $0.sequences.first }) {
            let file = path(sequence)
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                return OutboxEntry(sequence: sequence, alert: try Alert.decoder().decode(Alert.self, from: data))
            } catch {
                logger.warning("skipping an unreadable alert outbox entry", metadata: ["file": "\(file)", "error": "\(error)"])
                rename(file, file + ".corrupt")
                pending.withLock { state in state.sequences.removeAll { $0 == sequence } }
            }
        }
        return nil
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

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = write(fd, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    /// Makes a rename durable: the directory entry is what a crash would otherwise lose.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
