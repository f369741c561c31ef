import NIOCore

/// Memory the C codecs read from or write into: allocated once, freed with the value, so the
/// pointers handed to a library stay valid for a whole (de)compression loop without closures.
final class NativeBytes {
    /// The memory, bound to `UInt8`; C's `char` (`Int8`) may alias it, as its signed twin.
    let bytes: UnsafeMutablePointer<UInt8>
    let count: Int

    /// `count` bytes for a library to fill (at least one is allocated, so never null).
    init(count: Int) {
        self.count = max(count, 0)
        bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        bytes.initialize(repeating: 0, count: max(count, 1))
    }

    /// A copy of the readable bytes of `buffer`.
    convenience init(copying buffer: ByteBuffer) {
        self.init(count: buffer.readableBytes)
        buffer.withUnsafeReadableBytes { source in
            UnsafeMutableRawBufferPointer(start: bytes, count: count).copyMemory(from: source)
        }
    }

    deinit { bytes.deallocate() }

    var pointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bytes) }
    var chars: UnsafeMutablePointer<CChar> { pointer.assumingMemoryBound(to: CChar.self) }

    /// The first `length` bytes as a new buffer.
    func buffer(length: Int) -> ByteBuffer {
        ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: min(max(length, 0), count)))
    }
}
