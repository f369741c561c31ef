import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one-writer rule for a site's flows (issue 9: `switchback mirror` refuses to start beside
/// an agent of the same site): whoever runs the flows of a data directory holds an exclusive
/// `flock` on `mirror.lock` in it. The kernel drops the lock when the process dies, so a crash
/// never leaves a stale lock behind.
public final class MirrorLock: Sendable {
    /// The lock file's path.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock of `dataDirectory` (creating the directory and the file if needed).
    /// - Parameter holder: written into the file, so the refusal can say who holds it.
    /// - Throws: ``MirrorLockError`` naming the holder when another process holds the lock.
    public init(dataDirectory: String, holder: String) throws(MirrorLockError) {
        path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("mirror.lock").path
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw MirrorLockError(path: path, problem: "cannot create the data directory: \(error.localizedDescription)")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw MirrorLockError(path: path, problem: "cannot open it: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let holderText = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw MirrorLockError(
                path: path,
                problem: busy
                    ? "held by \(holderText?.isEmpty == false ? holderText! : "another process"): that process already runs this site's flows; "
                        + "stop it first (a site's flows run in its agent, or in one standalone `switchback mirror`)"
                    : "cannot lock it: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        let text = "\(holder) (pid \(getpid()))\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// The data directory's flows are run by another process (see ``MirrorLock``).
public struct MirrorLockError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public var description: String { "mirror lock \(path): \(problem)" }
}
