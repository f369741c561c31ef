import NIOCore

/// How the records of a batch are compressed (attributes bits 0–2).
public enum CompressionCodec: Int16, Sendable, Equatable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}

/// Which clock the record timestamps of a batch come from (attributes bit 3).
public enum TimestampType: Sendable, Equatable {
    /// Set by the producer.
    case createTime
    /// Set by the broker when it appended the batch (`maxTimestamp` holds it).
    case logAppendTime
}

/// The fixed 61-byte header of a v2 record batch.
///
/// Layout (big-endian): `baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32 magic:int8
/// crc:uint32 attributes:int16 lastOffsetDelta:int32 baseTimestamp:int64 maxTimestamp:int64
/// producerId:int64 producerEpoch:int16 baseSequence:int32 recordsCount:int32`. `batchLength`
/// counts the bytes after itself; the CRC-32C covers `attributes` to the end of the batch, so
/// `baseOffset` and `partitionLeaderEpoch` may be rewritten without touching it.
public struct RecordBatchHeader: Sendable, Equatable {
    /// Bytes in the header, from `baseOffset` to `recordsCount`.
    public static let size = 61
    /// Bytes before `batchLength`'s counted region (`baseOffset` and `batchLength` themselves).
    public static let lengthPrefixSize = 12
    /// The smallest valid `batchLength`: a header with no records.
    public static let minimumBatchLength = Int32(size - lengthPrefixSize)
    /// The only record batch format this implementation reads and writes.
    public static let currentMagic: Int8 = 2

    static let partitionLeaderEpochOffset = 12
    static let magicOffset = 16
    static let crcOffset = 17
    static let attributesOffset = 21

    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordsCount: Int32

    /// Reads the header starting at `index` of `buffer` without moving its reader index.
    ///
    /// Checks only what the header alone can tell: a `batchLength` of at least 49 bytes, magic 2,
    /// and non-negative `lastOffsetDelta` and `recordsCount`. Whether the whole batch is present
    /// is the caller's question (`totalSize`).
    /// - Throws: `WireError.truncated` when fewer than 61 bytes follow `index`, otherwise
    ///   `WireError.malformed` naming the offending field.
    public init(parsing buffer: ByteBuffer, at index: Int) throws(WireError) {
        guard index >= buffer.readerIndex, buffer.writerIndex - index >= Self.size else {
            throw .truncated(field: "record batch header")
        }
        func int64(_ offset: Int) -> Int64 { buffer.getInteger(at: index + offset) ?? 0 }
        func int32(_ offset: Int) -> Int32 { buffer.getInteger(at: index + offset) ?? 0 }
        func int16(_ offset: Int) -> Int16 { buffer.getInteger(at: index + offset) ?? 0 }
        baseOffset = int64(0)
        batchLength = int32(8)
        partitionLeaderEpoch = int32(12)
        magic = buffer.getInteger(at: index + Self.magicOffset) ?? 0
        crc = buffer.getInteger(at: index + Self.crcOffset) ?? 0
        attributes = int16(21)
        lastOffsetDelta = int32(23)
        baseTimestamp = int64(27)
        maxTimestamp = int64(35)
        producerId = int64(43)
        producerEpoch = int16(51)
        baseSequence = int32(53)
        recordsCount = int32(57)
        try Self.checkLength(batchLength)
        try Self.checkMagic(magic)
        guard lastOffsetDelta >= 0 else {
            throw .malformed(field: "lastOffsetDelta", reason: "negative (\(lastOffsetDelta))")
        }
        guard recordsCount >= 0 else {
            throw .malformed(field: "recordsCount", reason: "negative (\(recordsCount))")
        }
    }

    static func checkLength(_ batchLength: Int32) throws(WireError) {
        guard batchLength >= minimumBatchLength else {
            throw .malformed(
                field: "batchLength",
                reason: "\(batchLength) is shorter than the \(minimumBatchLength)-byte batch header"
            )
        }
    }

    static func checkMagic(_ magic: Int8) throws(WireError) {
        guard magic == currentMagic else {
            throw .malformed(
                field: "magic",
                reason: "record batch format v\(magic) is not supported; only v2 (Kafka 0.11+ clients) is"
            )
        }
    }

    /// Bytes the whole batch occupies, header included.
    public var totalSize: Int { Self.lengthPrefixSize + Int(batchLength) }

    /// Offset of the batch's last record (wrapping rather than trapping on hostile values).
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }

    /// Sequence number of the batch's last record; sequences wrap from `Int32.max` to 0.
    public var lastSequence: Int32 {
        guard baseSequence >= 0 else { return baseSequence }
        return Int32(truncatingIfNeeded: (Int64(baseSequence) + Int64(lastOffsetDelta)) % (Int64(Int32.max) + 1))
    }

    /// The codec of the records; `nil` for a codec id Kafka does not define.
    public var compression: CompressionCodec? { CompressionCodec(rawValue: attributes & 0x7) }

    public var timestampType: TimestampType { attributes & 0x8 == 0 ? .createTime : .logAppendTime }

    /// Part of a transaction: invisible to `read_committed` consumers until committed.
    public var isTransactional: Bool { attributes & 0x10 != 0 }

    /// Holds a control record (transaction commit or abort marker) rather than data.
    public var isControl: Bool { attributes & 0x20 != 0 }

    /// Whether the batch was produced by an idempotent or transactional producer.
    public var hasProducerId: Bool { producerId >= 0 }

    /// Whether the CRC stored in the batch at `index` matches its bytes.
    ///
    /// - Throws: `WireError.truncated` when the batch is not wholly inside the buffer.
    public static func verifyCRC(in buffer: ByteBuffer, at index: Int) throws(WireError) -> Bool {
        let header = try RecordBatchHeader(parsing: buffer, at: index)
        let end = index + header.totalSize
        guard end <= buffer.writerIndex else { throw .truncated(field: "record batch") }
        guard let covered = buffer.getSlice(at: index + attributesOffset, length: end - index - attributesOffset) else {
            throw .truncated(field: "record batch")
        }
        return CRC32C.checksum(covered) == header.crc
    }

    /// Writes `baseOffset` into the batch starting at `index`; the CRC stays valid.
    public static func setBaseOffset(_ baseOffset: Int64, in buffer: inout ByteBuffer, at index: Int) {
        buffer.setInteger(baseOffset, at: index)
    }

    /// Writes `partitionLeaderEpoch` into the batch at `index`; the CRC stays valid.
    public static func setPartitionLeaderEpoch(_ epoch: Int32, in buffer: inout ByteBuffer, at index: Int) {
        buffer.setInteger(epoch, at: index + partitionLeaderEpochOffset)
    }
}
