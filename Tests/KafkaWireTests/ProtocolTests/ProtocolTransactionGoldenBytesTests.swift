import NIOCore
import Testing

@testable import KafkaWire

/// The transaction APIs' codecs (generated from Switchback's own schema descriptions in
/// `script/protocol-extra/`) against bodies written byte by byte from the protocol guide.
@Suite struct ProtocolTransactionGoldenBytesTests {
    private static func string(_ text: String) -> [UInt8] {
        [UInt8(text.utf8.count >> 8), UInt8(text.utf8.count & 0xff)] + Array(text.utf8)
    }

    private static let header: [UInt8] = [0x00, 0x00, 0x00, 0x07] + string("rdkafka")  // correlation 7, client id

    @Test func addPartitionsToTxnV0() throws {
        // transactional_id "tx", producer_id 5, epoch 1, [topic "t" partitions [0, 2]]
        let body: [UInt8] = Self.string("tx") + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 1]
            + [0, 0, 0, 1] + Self.string("t") + [0, 0, 0, 2] + [0, 0, 0, 0] + [0, 0, 0, 2]
        let bytes: [UInt8] = [0x00, 24, 0x00, 0x00] + Self.header + body
        let (header, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(header.api == .addPartitionsToTxn)
        #expect(request == .addPartitionsToTxn(AddPartitionsToTxnRequest(
            transactionalId: "tx", producerId: 5, producerEpoch: 1, topics: [.init(name: "t", partitions: [0, 2])])))
        #expect(Array(encodedRequest(request, version: 0, correlationId: 7).readableBytesView) == bytes)
    }

    @Test func endTxnV1AndItsResponse() throws {
        let body: [UInt8] = Self.string("tx") + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 1] + [1]
        let bytes: [UInt8] = [0x00, 26, 0x00, 0x01] + Self.header + body
        let (_, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(request == .endTxn(EndTxnRequest(transactionalId: "tx", producerId: 5, producerEpoch: 1, committed: true)))
        var response = ByteBuffer()
        EndTxnResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.invalidTxnState.rawValue).encode(into: &response, version: 1)
        #expect(Array(response.readableBytesView) == [0, 0, 0, 0, 0, 48])
    }

    @Test func txnOffsetCommitV2CarriesTheLeaderEpoch() throws {
        // transactional_id, group_id, producer_id, epoch, [topic [partition, offset, leader epoch, metadata null]]
        let body: [UInt8] = Self.string("tx") + Self.string("g") + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 1]
            + [0, 0, 0, 1] + Self.string("t") + [0, 0, 0, 1]
            + [0, 0, 0, 3] + [0, 0, 0, 0, 0, 0, 0, 42] + [0, 0, 0, 9] + [0xff, 0xff]
        let bytes: [UInt8] = [0x00, 28, 0x00, 0x02] + Self.header + body
        let (_, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(request == .txnOffsetCommit(TxnOffsetCommitRequest(
            transactionalId: "tx", groupId: "g", producerId: 5, producerEpoch: 1,
            topics: [.init(name: "t", partitions: [.init(partitionIndex: 3, committedOffset: 42, committedLeaderEpoch: 9, committedMetadata: nil)])])))
        #expect(Array(encodedRequest(request, version: 2, correlationId: 7).readableBytesView) == bytes)
        // v0 has no leader epoch: the same request is four bytes shorter.
        #expect(encodedRequest(request, version: 0, correlationId: 7).readableBytes == bytes.count - 4)
    }

    @Test func addOffsetsToTxnV2() throws {
        let body: [UInt8] = Self.string("tx") + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 1] + Self.string("g")
        let bytes: [UInt8] = [0x00, 25, 0x00, 0x02] + Self.header + body
        let (_, request) = try decodeRequest(ByteBuffer(bytes: bytes))
        #expect(request == .addOffsetsToTxn(AddOffsetsToTxnRequest(transactionalId: "tx", producerId: 5, producerEpoch: 1, groupId: "g")))
    }

    @Test func flexibleV3IsNotAdvertisedButItsHeaderIsKnown() {
        for api in [ApiKey.addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit] {
            #expect(SupportedApiVersions.ranges[api] == 0...2)
            #expect(SupportedApiVersions.isFlexible(api, version: 3))
            #expect(!SupportedApiVersions.isFlexible(api, version: 2))
        }
    }
}
