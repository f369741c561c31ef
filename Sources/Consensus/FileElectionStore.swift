import DurableFiles
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The election's durable state as one JSON file (`<data_dir>/election.json`).
///
/// A save never leaves a half-written file: it writes a temporary file in the same directory,
/// fsyncs it, renames it over the old one (atomic on POSIX file systems) and fsyncs the
/// directory so the rename itself survives a power loss. Only after `save` returns may the
/// runtime send the replies that depend on it.
///
/// - Important: `save` and `load` block on disk I/O (fsync); call them from a thread or
///   executor of their own, not from the cooperative pool.
public struct FileElectionStore: Sendable {
    /// The file's format; bumped if the layout ever changes incompatibly.
    static let formatVersion = 1

    struct Envelope: Codable {
        var formatVersion: Int
        var state: ElectionState
    }

    public let path: String

    public init(path: String) { self.path = path }

    /// The file in `directory` the agent uses by default.
    public init(directory: String) { self.path = directory + "/election.json" }

    var directory: String { (path as NSString).deletingLastPathComponent }

    /// Written beside the state on its first save and never removed by the agent: a state file
    /// missing while this exists was lost or deleted, so the agent must rejoin (`Rejoin`).
    public var markerPath: String { path + ".voted" }

    /// Whether this data directory held a state that is gone now.
    public var stateWasLost: Bool {
        FileManager.default.fileExists(atPath: markerPath) && !FileManager.default.fileExists(atPath: path)
    }

    /// The stored state, or `nil` if the agent never stored one (first start).
    /// - Throws: `ElectionStoreError` when the file exists but cannot be read or understood.
    public func load() throws(ElectionStoreError) -> ElectionState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ElectionStoreError(
                code: .unreadable, path: path,
                message: "cannot read it (\(error.localizedDescription)); check its permissions for the agent's user")
        }
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: data)
        } catch {
            throw ElectionStoreError(
                code: .corrupted, path: path,
                message: "it is not a valid election state (\(error)); restore it from a backup, or move it aside and start the agent with --rejoin: it then refuses votes and lease grants until it has caught up with a majority of the other voters and waited out its old leases (deleting it without --rejoin could let this voter vote twice in one epoch)")
        }
        guard envelope.formatVersion == Self.formatVersion else {
            throw ElectionStoreError(
                code: .unsupportedVersion, path: path,
                message: "format version \(envelope.formatVersion) is not \(Self.formatVersion); run the Switchback version that wrote it")
        }
        return envelope.state
    }

    /// Stores `state` durably (temporary file, fsync, rename, fsync of the directory).
    /// - Throws: `ElectionStoreError` when any step fails; the previous file is then intact.
    public func save(_ state: ElectionState) throws(ElectionStoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(Envelope(formatVersion: Self.formatVersion, state: state))
        } catch {
            throw ElectionStoreError(code: .writeFailed, path: path, message: "cannot encode the state: \(error)")
        }
        let temporary = path + ".tmp"
        try writeAndSync(data, to: temporary)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ElectionStoreError(code: .writeFailed, path: path, message: "cannot rename \(temporary) over it: \(reason)")
        }
        if !FileManager.default.fileExists(atPath: markerPath) {
            try writeAndSync(
                Data("this agent has stored election state here; if election.json is missing, it rejoins as a voter\n".utf8), to: markerPath)
        }
        try syncDirectory()
    }

    private func writeAndSync(_ data: Data, to file: String) throws(ElectionStoreError) {
        let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else {
            throw ElectionStoreError(
                code: .writeFailed, path: file,
                message: "cannot create it: \(String(cString: strerror(errno))); check that \(directory) exists and is writable")
        }
        defer { close(descriptor) }
        do {
            try DurableFile.writeAllAndSync(descriptor, data)
        } catch where error.operation == "write" {
            throw ElectionStoreError(code: .writeFailed, path: file, message: "cannot write it: \(error.reason); check free space")
        } catch {
            throw ElectionStoreError(code: .writeFailed, path: file, message: "fsync failed: \(error.reason)")
        }
    }

    private func syncDirectory() throws(ElectionStoreError) {
        do {
            try DurableFile.syncDirectory(directory)
        } catch {
            throw ElectionStoreError(code: .writeFailed, path: directory, message: "cannot fsync the directory (\(error)); check that it exists and is readable")
        }
    }
}

/// Reading or writing the election state file failed.
public struct ElectionStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        case unreadable, corrupted, unsupportedVersion, writeFailed
    }

    public var code: Code
    /// The file (or directory) concerned.
    public var path: String
    public var message: String

    /// A failed write may succeed when retried (space freed, transient I/O error); a corrupted
    /// file needs an operator.
    public var isRetriable: Bool { code == .writeFailed }

    public var description: String { "election state \(path): \(message)" }
}
