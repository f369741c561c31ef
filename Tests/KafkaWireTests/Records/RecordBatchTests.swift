import NIOCore
import Testing
import TestSupport
@testable import KafkaWire

@Suite struct RecordBatchTests {
    private func sampleBatch(records: Int = 3, baseOffset: Int64 = 0) -> RecordBatchBuilder {
        var builder = RecordBatchBuilder(baseTimestamp: 1_700_000_000_000)
        builder.baseOffset = baseOffset
        builder.producerId = 77
        builder.producerEpoch = 2
        builder.baseSequence = 10
        for index in 0..<records {
            builder.append(
                key: index == 0 ? nil : ByteBuffer(string: "k\(index)"),
                value: index == 1 ? nil : ByteBuffer(string: String(repeating: "v", count: index * 50)),
                headers: [RecordHeader(key: "h\(index)", value: ByteBuffer(string: "x")), RecordHeader(key: "n", value: nil)],
                timestamp: 1_700_000_000_000 + Int64(index) * 5
            )
        }
        return builder
    }

    @Test func roundTripsRecordsAndHeader() throws {
        let builder = sampleBatch()
        let batch = try RecordBatch(bytes: builder.build())
        #expect(batch.hasValidCRC)
        let header = batch.header
        #expect(header.magic == 2)
        #expect(header.recordsCount == 3)
        #expect(header.lastOffsetDelta == 2)
        #expect(header.maxTimestamp == 1_700_000_000_010)
        #expect(header.producerId == 77)
        #expect(header.producerEpoch == 2)
        #expect(header.baseSequence == 10)
        #expect(header.lastSequence == 12)
        #expect(header.compression == CompressionCodec.none)
        #expect(header.timestampType == .createTime)
        #expect(!header.isTransactional && !header.isControl)
        #expect(try batch.payload() == .records(builder.records))
    }

    @Test func flagsRoundTrip() throws {
        let marker = RecordBatchBuilder.transactionMarker(
            producerId: 5, producerEpoch: 1, commit: true, coordinatorEpoch: 3, timestamp: 9
        )
        let header = try RecordBatch(bytes: marker.build()).header
        #expect(header.isTransactional)
        #expect(header.isControl)
        var builder = sampleBatch(records: 1)
        builder.timestampType = .logAppendTime
        #expect(try RecordBatch(bytes: builder.build()).header.timestampType == .logAppendTime)
    }

    @Test func compressedBatchReportsCodec() throws {
        var bytes = sampleBatch().build()
        // Mark the records zstd-compressed (attributes low bits) and fix the CRC.
        bytes.setInteger(Int16(4), at: 21)
        let crc = CRC32C.checksum(bytes.getSlice(at: 21, length: bytes.readableBytes - 21)!)
        bytes.setInteger(crc, at: 17)
        let batch = try RecordBatch(bytes: bytes)
        #expect(batch.hasValidCRC)
        #expect(try batch.payload() == .compressed(.zstd))
    }

    @Test func baseOffsetRewriteKeepsCRCValid() throws {
        var bytes = sampleBatch().build()
        RecordBatchHeader.setBaseOffset(123_456, in: &bytes, at: 0)
        RecordBatchHeader.setPartitionLeaderEpoch(7, in: &bytes, at: 0)
        let batch = try RecordBatch(bytes: bytes)
        #expect(batch.header.baseOffset == 123_456)
        #expect(batch.header.lastOffset == 123_458)
        #expect(batch.header.partitionLeaderEpoch == 7)
        #expect(batch.hasValidCRC)
    }

    @Test func everyFlippedCoveredByteIsDetected() throws {
        let bytes = sampleBatch().build()
        for position in RecordBatchHeader.attributesOffset..<bytes.readableBytes {
            var corrupt = bytes
            corrupt.setInteger(corrupt.getInteger(at: position, as: UInt8.self)! ^ 0x40, at: position)
            #expect(try !RecordBatchHeader.verifyCRC(in: corrupt, at: 0), "flip at \(position)")
        }
    }

    @Test func splitsConcatenatedBatches() throws {
        var buffer = ByteBuffer()
        for base in [Int64(0), 3, 6] { sampleBatch(baseOffset: base).write(to: &buffer) }
        let sequence = try RecordBatchSequence(splitting: buffer)
        #expect(sequence.batches.map(\.header.baseOffset) == [0, 3, 6])
        #expect(sequence.partialTrailingBytes == 0)
        #expect(sequence.batches.allSatisfy { $0.hasValidCRC })
    }

    @Test func truncationAtEveryPositionThrowsUnlessPartialAllowed() throws {
        var buffer = ByteBuffer()
        sampleBatch().write(to: &buffer)
        let firstSize = buffer.readableBytes
        sampleBatch(baseOffset: 3).write(to: &buffer)
        for cut in 1..<buffer.readableBytes where cut != firstSize {
            let truncated = buffer.getSlice(at: 0, length: cut)!
            #expect(throws: WireError.self, "cut at \(cut)") { try RecordBatchSequence(splitting: truncated) }
            let partial = try RecordBatchSequence(splitting: truncated, allowPartialTrailingBatch: true)
            #expect(partial.batches.count == (cut < firstSize ? 0 : 1))
            #expect(partial.partialTrailingBytes == (cut < firstSize ? cut : cut - firstSize))
        }
    }

    @Test func truncatedRecordsThrow() throws {
        let bytes = sampleBatch().build()
        for cut in RecordBatchHeader.size..<bytes.readableBytes {
            var truncated = bytes.getSlice(at: 0, length: cut)!
            // Keep the header consistent with the shorter body, so only the records are wrong.
            truncated.setInteger(Int32(cut - 12), at: 8)
            let batch = try RecordBatch(bytes: truncated)
            #expect(throws: WireError.self, "cut at \(cut)") { try batch.payload() }
        }
    }

    @Test func validateRecordsChecksFramingCountAndDeltas() throws {
        try RecordBatch(bytes: sampleBatch().build()).validateRecords()
        var skipping = RecordBatchBuilder(baseTimestamp: 0)
        skipping.append(Record(offsetDelta: 0, value: ByteBuffer(string: "a")))
        skipping.append(Record(offsetDelta: 2, value: ByteBuffer(string: "b")))
        #expect(throws: WireError.self) { try RecordBatch(bytes: skipping.build()).validateRecords() }
        var miscounted = sampleBatch().build()
        miscounted.setInteger(Int32(4), at: 57)
        #expect(throws: WireError.self) { try RecordBatch(bytes: miscounted).validateRecords() }
        let bytes = sampleBatch().build()
        for cut in RecordBatchHeader.size..<bytes.readableBytes {
            var truncated = bytes.getSlice(at: 0, length: cut)!
            truncated.setInteger(Int32(cut - 12), at: 8)
            #expect(throws: WireError.self, "cut at \(cut)") { try RecordBatch(bytes: truncated).validateRecords() }
        }
    }

    @Test func shortLengthAndWrongMagicAreRejected() {
        var short = sampleBatch().build()
        short.setInteger(Int32(48), at: 8)
        #expect(throws: WireError.self) { try RecordBatchSequence(splitting: short) }
        var legacy = sampleBatch().build()
        legacy.setInteger(Int8(1), at: 16)
        #expect(throws: WireError.self) { try RecordBatchSequence(splitting: legacy) }
        #expect(throws: WireError.self) { try RecordBatchSequence(splitting: legacy, allowPartialTrailingBatch: true) }
    }

    @Test func seededGarbageNeverCrashes() {
        var generator = SeededGenerator(seed: 2026)
        let valid = sampleBatch().build()
        for round in 0..<3000 {
            var bytes: ByteBuffer
            if round % 2 == 0 {
                let length = Int.random(in: 0...300, using: &generator)
                bytes = ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            } else {
                // Mutate a valid batch so parsing gets past the header checks.
                bytes = valid
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    let position = Int.random(in: 0..<bytes.readableBytes, using: &generator)
                    bytes.setInteger(UInt8.random(in: 0...255, using: &generator), at: position)
                }
            }
            if let sequence = try? RecordBatchSequence(splitting: bytes, allowPartialTrailingBatch: round % 3 == 0) {
                for batch in sequence.batches {
                    _ = batch.hasValidCRC
                    _ = try? batch.payload()
                    _ = try? batch.validateRecords()
                }
            }
        }
    }
}
