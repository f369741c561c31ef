import NIOCore

/// Memory the C codecs read from or write into: allocated once, freed with the value, so the
/// pointers handed to a library stay valid for a whole (de)compression loop without closures.
final class NativeBytes {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    /// `count` uninitialised bytes (at least one is allocated, so the pointer is never null).
    init(count: Int) {
        self.count = max(count, 0)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
    }

    /// A copy of the readable bytes of `buffer`.
    convenience init(copying buffer: ByteBuffer) {
        self.init(count: buffer.readableBytes)
        buffer.withUnsafeReadableBytes { source in
            if let base = source.baseAddress, source.count > 0 {
                pointer.copyMemory(from: base, byteCount: source.count)
            }
        }
    }

    deinit { pointer.deallocate() }

    var bytes: UnsafeMutablePointer<UInt8> { pointer.assumingMemoryBound(to: UInt8.self) }
    var chars: UnsafeMutablePointer<CChar> { pointer.assumingMemoryBound(to: CChar.self) }

    /// The first `length` bytes as a new buffer.
    func buffer(length: Int) -> ByteBuffer {
        ByteBuffer(bytes: UnsafeRawBufferPointer(start: pointer, count: min(max(length, 0), count)))
    }
}
