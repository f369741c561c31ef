#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// An open file read and written with `pread`/`pwrite` straight from and into `ByteBuffer`s,
/// so appended batches are not copied through `Data` on the way to disk.
///
/// - Important: not thread-safe; used only from the broker's storage isolation domain.
final class StorageFile {
    let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Opens `path` for reading and writing, creating it when `create` is set.
    static func open(_ path: String, create: Bool) throws(StorageError) -> StorageFile {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let descriptor = retryingOnInterrupt { openDescriptor(path, flags) }
        guard descriptor >= 0 else { throw .io(path, errno, create ? "create" : "open") }
        return StorageFile(path: path, descriptor: descriptor)
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 {
            closeDescriptor(descriptor)
            descriptor = -1
        }
    }

    /// Current size in bytes.
    func size() throws(StorageError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(path, errno, "stat") }
        return Int(info.st_size)
    }

    /// Reads up to `length` bytes at `offset`; fewer only when the file ends first.
    func read(at offset: Int, length: Int) throws(StorageError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: max(length, 0))
        var failure: Int32 = 0
        while buffer.readableBytes < length {
            let want = length - buffer.readableBytes
            let position = offset + buffer.readableBytes
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { pointer in
                let result = retryingOnInterrupt { pread(descriptor, pointer.baseAddress, want, off_t(position)) }
                if result < 0 { failure = errno }
                return max(result, 0)
            }
            if failure != 0 { throw .io(path, failure, "read") }
            if count == 0 { break }
        }
        return buffer
    }

    /// Writes all readable bytes of `buffer` at `offset`.
    func write(_ buffer: ByteBuffer, at offset: Int) throws(StorageError) {
        var failure: Int32 = 0
        buffer.withUnsafeReadableBytes { bytes in
            var done = 0
            while done < bytes.count {
                let result = retryingOnInterrupt {
                    pwrite(descriptor, bytes.baseAddress.map { $0 + done }, bytes.count - done, off_t(offset + done))
                }
                if result <= 0 {
                    failure = result < 0 ? errno : EIO
                    return
                }
                done += result
            }
        }
        if failure != 0 { throw .io(path, failure, "write") }
    }

    /// Forces written data to stable storage.
    func sync() throws(StorageError) {
        guard retryingOnInterrupt({ fsync(descriptor) }) == 0 else { throw .io(path, errno, "fsync") }
    }

    func truncate(to size: Int) throws(StorageError) {
        guard retryingOnInterrupt({ ftruncate(descriptor, off_t(size)) }) == 0 else { throw .io(path, errno, "truncate") }
    }

    /// Takes an exclusive advisory lock, so two brokers never share a data directory.
    func lockExclusively() throws(StorageError) {
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            throw StorageError(
                .io(path: path, errno: code),
                "data directory is in use by another LocalKafka process (lock \(path) is held); stop it or use another directory"
            )
        }
    }
}

func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

private func openDescriptor(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags, 0o644)
}

private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
