import NIOCore

/// Builds an uncompressed v2 record batch: for tests, for the broker's control records, and for
/// anything else that must write records rather than pass produced bytes through.
public struct RecordBatchBuilder: Sendable {
    public var baseOffset: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    /// Timestamp of the first record; record timestamps are stored relative to it.
    public var baseTimestamp: Int64
    /// -1 for a producer that is neither idempotent nor transactional.
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    public var isTransactional = false
    public var isControl = false
    public var timestampType: TimestampType = .createTime
    public private(set) var records: [Record] = []

    public init(baseTimestamp: Int64) {
        self.baseTimestamp = baseTimestamp
    }

    /// Adds a record as it is (its `offsetDelta` and `timestampDelta` are kept).
    public mutating func append(_ record: Record) {
        records.append(record)
    }

    /// Adds a record at the next offset delta, stamped `timestamp` (default: the base timestamp).
    public mutating func append(
        key: ByteBuffer? = nil,
        value: ByteBuffer?,
        headers: [RecordHeader] = [],
        timestamp: Int64? = nil
    ) {
        let delta = (timestamp ?? baseTimestamp) &- baseTimestamp
        records.append(
            Record(
                offsetDelta: Int32(truncatingIfNeeded: records.count),
                timestampDelta: delta,
                key: key,
                value: value,
                headers: headers
            )
        )
    }

    /// Writes the whole batch, with its CRC, to the end of `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        var attributes: Int16 = 0
        if timestampType == .logAppendTime { attributes |= 0x8 }
        if isTransactional { attributes |= 0x10 }
        if isControl { attributes |= 0x20 }
        let lastOffsetDelta = records.map(\.offsetDelta).max() ?? 0
        let maxTimestamp = baseTimestamp &+ (records.map(\.timestampDelta).max() ?? 0)

        var covered = ByteBuffer()
        covered.writeInteger(attributes)
        covered.writeInteger(lastOffsetDelta)
        covered.writeInteger(baseTimestamp)
        covered.writeInteger(maxTimestamp)
        covered.writeInteger(producerId)
        covered.writeInteger(producerEpoch)
        covered.writeInteger(baseSequence)
        covered.writeInteger(Int32(truncatingIfNeeded: records.count))
        for record in records { record.write(to: &covered) }

        buffer.writeInteger(baseOffset)
        // batchLength counts partitionLeaderEpoch (4), magic (1) and crc (4) before the covered part.
        buffer.writeInteger(Int32(truncatingIfNeeded: 9 + covered.readableBytes))
        buffer.writeInteger(partitionLeaderEpoch)
        buffer.writeInteger(RecordBatchHeader.currentMagic)
        buffer.writeInteger(CRC32C.checksum(covered))
        buffer.writeImmutableBuffer(covered)
    }

    /// The whole batch as a new buffer.
    public func build() -> ByteBuffer {
        var buffer = ByteBuffer()
        write(to: &buffer)
        return buffer
    }

    /// A control batch holding one transaction marker, as a transaction coordinator writes it.
    ///
    /// Key: `version:int16(0) type:int16` (0 abort, 1 commit); value: `version:int16(0)
    /// coordinatorEpoch:int32`.
    public static func transactionMarker(
        producerId: Int64,
        producerEpoch: Int16,
        commit: Bool,
        coordinatorEpoch: Int32,
        timestamp: Int64
    ) -> RecordBatchBuilder {
        var builder = RecordBatchBuilder(baseTimestamp: timestamp)
        builder.producerId = producerId
        builder.producerEpoch = producerEpoch
        builder.isTransactional = true
        builder.isControl = true
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeInteger(Int16(commit ? 1 : 0))
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(coordinatorEpoch)
        builder.append(key: key, value: value)
        return builder
    }
}
