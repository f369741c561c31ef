import KafkaWire
import NIOCore
import Testing

@testable import LocalKafka

/// The stamping behind LogAppendTime topics, on batches built here.
@Suite struct LogAppendTimeStampTests {
    static func batch(values: [String], baseTimestamp: Int64 = 1_000) -> ByteBuffer {
        var builder = RecordBatchBuilder(baseTimestamp: baseTimestamp)
        for value in values { builder.append(value: ByteBuffer(string: value)) }
        return builder.build()
    }

    @Test func stampsEveryBatchAndKeepsItsCRCValid() throws {
        var batches = Self.batch(values: ["a", "b"])
        var second = Self.batch(values: ["c"])
        batches.writeBuffer(&second)
        let stamped = LogAppendTimeStamp.stamp(batches, nowMs: 1_700_000_000_123)
        let split = try RecordBatchSequence(splitting: stamped)
        #expect(split.batches.count == 2)
        var index = stamped.readerIndex
        for batch in split.batches {
            #expect(batch.header.timestampType == .logAppendTime)
            #expect(batch.header.maxTimestamp == 1_700_000_000_123)
            #expect(batch.header.baseTimestamp == 1_000)
            #expect(batch.hasValidCRC)
            #expect(try RecordBatchHeader.verifyCRC(in: stamped, at: index))
            index += batch.header.totalSize
        }
        #expect(stamped.readableBytes == batches.readableBytes)
    }

    @Test func neverGivesADamagedBatchAFreshCRC() throws {
        var damaged = Self.batch(values: ["payload"])
        let last = damaged.writerIndex - 1
        let byte = try #require(damaged.getInteger(at: last, as: UInt8.self))
        damaged.setInteger(byte ^ 0xFF, at: last)
        let stamped = LogAppendTimeStamp.stamp(damaged, nowMs: 42)
        #expect(stamped == damaged)
        #expect(try !RecordBatchHeader.verifyCRC(in: stamped, at: stamped.readerIndex))
    }

    @Test func leavesTruncatedAndGarbageInputAlone() throws {
        let whole = Self.batch(values: ["x"])
        let truncated = try #require(whole.getSlice(at: whole.readerIndex, length: whole.readableBytes - 3))
        #expect(LogAppendTimeStamp.stamp(truncated, nowMs: 42) == truncated)
        let garbage = ByteBuffer(bytes: [UInt8](repeating: 0xAB, count: 100))
        #expect(LogAppendTimeStamp.stamp(garbage, nowMs: 42) == garbage)
        #expect(LogAppendTimeStamp.stamp(ByteBuffer(), nowMs: 42) == ByteBuffer())
    }
}
