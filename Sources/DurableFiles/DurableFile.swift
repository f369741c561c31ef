#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The two system-call patterns every crash-safe file of the agent is made of: write every
/// byte (a `write` may take fewer than asked, or be interrupted), and fsync — the file, and the
/// directory whose entry a create or rename changed, which a crash would otherwise lose.
///
/// The election state, the alert outbox, the runbook journal and the audit log each decide
/// *what* must be durable and when; this type only does the system calls the same way for all.
public enum DurableFile {
    /// Writes all of `bytes` at the descriptor's position, retrying short writes and `EINTR`.
    /// - Throws: ``DurableFileError`` with the `errno` of the failed `write`.
    public static func writeAll(_ descriptor: Int32, _ bytes: some Collection<UInt8>) throws(DurableFileError) {
        let failure: Int32? = bytes.withContiguousStorageIfAvailable { writeAll(descriptor, UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { writeAll(descriptor, $0) }
        if let failure { throw DurableFileError(operation: "write", code: failure) }
    }

    /// Writes all of `bytes`, then fsyncs the file.
    /// - Throws: ``DurableFileError`` naming the call (`write` or `fsync`) that failed.
    public static func writeAllAndSync(_ descriptor: Int32, _ bytes: some Collection<UInt8>) throws(DurableFileError) {
        try writeAll(descriptor, bytes)
        guard fsync(descriptor) == 0 else { throw DurableFileError(operation: "fsync", code: errno) }
    }

    /// Fsyncs the directory at `path`, making a create, rename or unlink in it durable.
    /// - Throws: ``DurableFileError`` naming the call (`open` or `fsync`) that failed.
    public static func syncDirectory(_ path: String) throws(DurableFileError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DurableFileError(operation: "open", code: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw DurableFileError(operation: "fsync", code: errno) }
    }

    private static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < buffer.count, let base = buffer.baseAddress {
            let written = write(descriptor, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }
}

/// A system call of ``DurableFile`` failed; `reason` is the system's text for `code`.
public struct DurableFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The call that failed: `open`, `write` or `fsync`.
    public var operation: String
    /// Its `errno`.
    public var code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// `strerror(code)`, e.g. "No space left on device".
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(operation): \(reason)" }
}
