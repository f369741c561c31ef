import KafkaWire
import NIOCore
import Testing
import TestSupport

#if os(Linux)
// Linux only: `RawConnection` speaks through Glibc sockets.

/// The transaction APIs byte for byte over TCP, for what clients never do on purpose (producing
/// outside a transaction, with a fenced epoch) and for the exact read_committed fields of Fetch
/// and ListOffsets: last stable offset and aborted transactions.
@Suite(.timeLimit(.minutes(2))) struct TransactionProtocolTests {
    /// Request/response over one connection with KafkaWire's codecs.
    final class Client {
        let connection: RawConnection
        var correlation: Int32 = 0

        init(_ address: String) throws { connection = try RawConnection(address) }

        func call(_ request: KafkaRequest, version: Int16) async throws -> KafkaResponse {
            correlation += 1
            var frame = ByteBuffer()
            frame.writeInteger(Int32(0))
            RequestHeader(api: request.api, apiVersion: version, correlationId: correlation, clientId: "txn-test").encode(into: &frame)
            request.encode(version: version, into: &frame)
            frame.setInteger(Int32(frame.readableBytes - 4), at: 0)
            #expect(connection.send(Array(frame.readableBytesView)))
            let bytes = try #require(await connection.receiveFrame(timeout: .seconds(20)), "no answer to \(request.api.name)")
            var body = ByteBuffer(bytes: bytes)
            #expect(try ResponseFrame.decodeHeader(api: request.api, version: version, from: &body) == correlation)
            return try KafkaResponse.decode(api: request.api, version: version, body: &body)
        }

        func produce(_ records: ByteBuffer, transactionalId: String?) async throws -> ProduceResponse.TopicProduceResponse.PartitionProduceResponse {
            let request = ProduceRequest(transactionalId: transactionalId, acks: -1, timeoutMs: 5_000, topicData: [
                .init(name: "t", partitionData: [.init(index: 0, records: records)]),
            ])
            guard case .produce(let response) = try await call(.produce(request), version: 7) else { throw Unexpected() }
            return try #require(response.responses.first?.partitionResponses.first)
        }

        func fetch(isolation: Int8) async throws -> FetchResponse.FetchableTopicResponse.PartitionData {
            let request = FetchRequest(maxWaitMs: 0, minBytes: 0, isolationLevel: isolation, topics: [
                .init(topic: "t", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)]),
            ])
            guard case .fetch(let response) = try await call(.fetch(request), version: 11) else { throw Unexpected() }
            return try #require(response.responses.first?.partitions.first)
        }

        func latest(isolation: Int8) async throws -> Int64 {
            let request = ListOffsetsRequest(replicaId: -1, isolationLevel: isolation, topics: [
                .init(name: "t", partitions: [.init(partitionIndex: 0, timestamp: -1)]),
            ])
            guard case .listOffsets(let response) = try await call(.listOffsets(request), version: 5) else { throw Unexpected() }
            return try #require(response.topics.first?.partitions.first).offset
        }

        func endTxn(_ producer: (Int64, Int16), commit: Bool) async throws -> KafkaErrorCode {
            let request = EndTxnRequest(transactionalId: "tx", producerId: producer.0, producerEpoch: producer.1, committed: commit)
            guard case .endTxn(let response) = try await call(.endTxn(request), version: 1) else { throw Unexpected() }
            return KafkaErrorCode(rawValue: response.errorCode)
        }

        func initProducer(timeoutMs: Int32 = 60_000) async throws -> (Int64, Int16) {
            let request = InitProducerIdRequest(transactionalId: "tx", transactionTimeoutMs: timeoutMs)
            guard case .initProducerId(let response) = try await call(.initProducerId(request), version: 1) else { throw Unexpected() }
            #expect(response.errorCode == 0)
            return (response.producerId, response.producerEpoch)
        }

        func addPartitions(_ producer: (Int64, Int16), _ topics: [(String, [Int32])]) async throws -> [String: [Int16]] {
            let request = AddPartitionsToTxnRequest(transactionalId: "tx", producerId: producer.0, producerEpoch: producer.1,
                                                    topics: topics.map { .init(name: $0.0, partitions: $0.1) })
            guard case .addPartitionsToTxn(let response) = try await call(.addPartitionsToTxn(request), version: 1) else { throw Unexpected() }
            return Dictionary(uniqueKeysWithValues: response.results.map { ($0.name, $0.results.map(\.errorCode)) })
        }
    }

    struct Unexpected: Error {}

    static func transactionalBatch(_ producer: (Int64, Int16), sequence: Int32, count: Int) -> ByteBuffer {
        var builder = RecordBatchBuilder(baseTimestamp: 1_000)
        builder.producerId = producer.0
        builder.producerEpoch = producer.1
        builder.baseSequence = sequence
        builder.isTransactional = true
        for index in 0..<count { builder.append(value: ByteBuffer(string: "txn-\(index)")) }
        return builder.build()
    }

    @Test func readCommittedFetchAndListOffsetsFollowTheLastStableOffset() async throws {
        try await withLocalKafka { broker in
            let client = try Client(broker.bootstrapServers)
            let created = try await client.call(.createTopics(CreateTopicsRequest(topics: [
                .init(name: "t", numPartitions: 1, replicationFactor: 1),
            ])), version: 2)
            guard case .createTopics(let topics) = created else { throw Unexpected() }
            #expect(topics.topics.first?.errorCode == 0)

            let producer = try await client.initProducer()
            // Not added to a transaction yet: refused, nothing written.
            let early = try await client.produce(Self.transactionalBatch(producer, sequence: 0, count: 2), transactionalId: "tx")
            #expect(KafkaErrorCode(rawValue: early.errorCode) == .invalidTxnState)
            #expect(try await client.endTxn(producer, commit: true) == .invalidTxnState)

            // An unknown partition makes the whole request fail; the known one is not added.
            let mixed = try await client.addPartitions(producer, [("t", [0]), ("missing", [0])])
            #expect(mixed["t"] == [KafkaErrorCode.operationNotAttempted.rawValue])
            #expect(mixed["missing"] == [KafkaErrorCode.unknownTopicOrPartition.rawValue])
            #expect(try await client.addPartitions(producer, [("t", [0])]) == ["t": [0]])

            #expect(try await client.produce(Self.transactionalBatch(producer, sequence: 0, count: 2), transactionalId: "tx").baseOffset == 0)
            var plain = RecordBatchBuilder(baseTimestamp: 1_000)
            plain.append(value: ByteBuffer(string: "plain"))
            #expect(try await client.produce(plain.build(), transactionalId: nil).baseOffset == 2)

            // Open transaction at 0: read_committed sees nothing yet, read_uncommitted everything.
            let committedView = try await client.fetch(isolation: 1)
            #expect(committedView.highWatermark == 3)
            #expect(committedView.lastStableOffset == 0)
            #expect(committedView.records?.readableBytes ?? 0 == 0)
            #expect(committedView.abortedTransactions == [])
            let uncommittedView = try await client.fetch(isolation: 0)
            #expect(uncommittedView.lastStableOffset == 0)
            #expect(try RecordBatchSequence(splitting: try #require(uncommittedView.records)).batches.count == 2)
            #expect(try await client.latest(isolation: 1) == 0)
            #expect(try await client.latest(isolation: 0) == 3)

            // Abort: the marker lands at 3, everything is stable, the aborted range is reported.
            #expect(try await client.endTxn(producer, commit: false) == .none)
            let afterAbort = try await client.fetch(isolation: 1)
            #expect(afterAbort.highWatermark == 4)
            #expect(afterAbort.lastStableOffset == 4)
            #expect(afterAbort.abortedTransactions == [.init(producerId: producer.0, firstOffset: 0)])
            let batches = try RecordBatchSequence(splitting: try #require(afterAbort.records)).batches
            #expect(batches.map(\.header.baseOffset) == [0, 2, 3])
            #expect(try batches.last?.controlRecordType() == .abort)
            #expect(try await client.latest(isolation: 1) == 4)

            // A new instance fences the old one, at the coordinator and at the partition.
            let successor = try await client.initProducer()
            #expect(successor.0 == producer.0 && successor.1 == producer.1 + 1)
            #expect(try await client.addPartitions(producer, [("t", [0])]) == ["t": [KafkaErrorCode.invalidProducerEpoch.rawValue]])
            #expect(try await client.addPartitions(successor, [("t", [0])]) == ["t": [0]])
            let fenced = try await client.produce(Self.transactionalBatch(producer, sequence: 2, count: 1), transactionalId: "tx")
            #expect(KafkaErrorCode(rawValue: fenced.errorCode) == .invalidProducerEpoch)
            #expect(try await client.produce(Self.transactionalBatch(successor, sequence: 0, count: 1), transactionalId: "tx").baseOffset == 4)
            #expect(try await client.endTxn(successor, commit: true) == .none)
            let afterCommit = try await client.fetch(isolation: 1)
            #expect(afterCommit.lastStableOffset == 6)
            // The committed transaction (4) is not among the aborted ones.
            #expect(afterCommit.abortedTransactions == [.init(producerId: producer.0, firstOffset: 0)])
        }
    }

    /// The broker's maintenance loop enforces `transaction.timeout.ms`: the stuck transaction is
    /// aborted (marker written, last stable offset released) and its producer fenced.
    @Test func aStuckTransactionIsAbortedWhenItTimesOut() async throws {
        try await withLocalKafka { broker in
            let client = try Client(broker.bootstrapServers)
            _ = try await client.call(.createTopics(CreateTopicsRequest(topics: [.init(name: "t", numPartitions: 1, replicationFactor: 1)])), version: 2)
            let producer = try await client.initProducer(timeoutMs: 200)
            #expect(try await client.addPartitions(producer, [("t", [0])]) == ["t": [0]])
            #expect(try await client.produce(Self.transactionalBatch(producer, sequence: 0, count: 3), transactionalId: "tx").baseOffset == 0)
            let deadline = ContinuousClock.now + .seconds(20)
            var view = try await client.fetch(isolation: 1)
            while view.lastStableOffset != view.highWatermark, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                view = try await client.fetch(isolation: 1)
            }
            #expect(view.lastStableOffset == 4 && view.highWatermark == 4, "the timed-out transaction was not aborted")
            #expect(view.abortedTransactions == [.init(producerId: producer.0, firstOffset: 0)])
            // The abort bumped the epoch: the stuck producer is fenced.
            #expect(try await client.endTxn(producer, commit: true) == .invalidProducerEpoch)
        }
    }
}
#endif
