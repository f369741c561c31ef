#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// Directory-level file operations of the store: creating, listing, removing, and replacing a
/// small file atomically (temp file, fsync, rename, fsync of the directory).
enum DataDirectory {
    static func create(_ path: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.io(path: path, errno: EIO), "could not create directory \(path): \(error); check permissions and free space")
        }
    }

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// Names of the entries in `path`, sorted; empty when it does not exist.
    static func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func remove(_ path: String) throws(StorageError) {
        guard exists(path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw StorageError(.io(path: path, errno: EIO), "could not remove \(path): \(error); check permissions")
        }
    }

    /// Forces the directory's entries (created, renamed or removed files) to stable storage.
    static func sync(_ path: String) throws(StorageError) {
        let descriptor = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { throw .io(path, errno, "open directory") }
        defer { _ = close(descriptor) }
        guard retryingOnInterrupt({ fsync(descriptor) }) == 0 else { throw .io(path, errno, "fsync directory") }
    }

    /// Replaces `path` with `contents` so that a crash leaves either the old or the new file.
    static func writeAtomically(_ contents: ByteBuffer, to path: String) throws(StorageError) {
        // One fixed name per directory (the store is single-threaded); short, because a topic
        // name may already use 249 of the 255 bytes a file name may have.
        let temporary = parent(of: path) + "/.replacing.tmp"
        let file = try StorageFile.open(temporary, create: true)
        try file.truncate(to: 0)
        try file.write(contents, at: 0)
        try file.sync()
        file.close()
        guard rename(temporary, path) == 0 else { throw .io(path, errno, "rename \(temporary) to") }
        try sync(parent(of: path))
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) throws(StorageError) -> ByteBuffer? {
        guard exists(path) else { return nil }
        let file = try StorageFile.open(path, create: false)
        return try file.read(at: 0, length: file.size())
    }

    static func parent(of path: String) -> String {
        (path as NSString).deletingLastPathComponent
    }
}
