import TestSupport
import KafkaWire
import NIOCore

// Inputs are drawn from `SeededGenerator` (Storage/StorageTestSupport.swift), so a run replays from its seed.

/// Well-formed requests of every API and version LocalKafka serves, as frames on the wire:
/// the seeds the fuzzer mutates. Names start with `fuzz-`, so nothing a mutation does can
/// reach topics or groups outside the fuzz.
enum RequestCorpus {
    static func frames() -> [(api: ApiKey, version: Int16, bytes: [UInt8])] {
        var frames: [(ApiKey, Int16, [UInt8])] = []
        var correlation: Int32 = 0
        for api in ApiKey.allCases {
            guard let versions = SupportedApiVersions.ranges[api] else { continue }
            for version in versions {
                correlation += 1
                let header = RequestHeader(api: api, apiVersion: version, correlationId: correlation, clientId: "fuzz-client")
                let frame = RequestFrame.encode(header: header, request: sample(api))
                frames.append((api, version, Array(frame.readableBytesView)))
            }
        }
        return frames
    }

    static func recordBatch() -> ByteBuffer {
        var builder = RecordBatchBuilder(baseTimestamp: 1_700_000_000_000)
        for index in 0..<3 {
            builder.append(
                key: ByteBuffer(string: "fuzz-key-\(index)"), value: ByteBuffer(string: "fuzz-value-\(index)"),
                headers: [RecordHeader(key: "h", value: ByteBuffer(string: "v\(index)"))]
            )
        }
        var buffer = ByteBuffer()
        builder.write(to: &buffer)
        return buffer
    }

    /// One plausible request of `api`, with every array non-empty so mutations reach its elements.
    static func sample(_ api: ApiKey) -> KafkaRequest {
        let topic = "fuzz-topic"
        let group = "fuzz-group"
        switch api {
        case .produce:
            return .produce(ProduceRequest(acks: -1, timeoutMs: 1_000, topicData: [
                .init(name: topic, partitionData: [.init(index: 0, records: recordBatch())]),
            ]))
        case .fetch:
            return .fetch(FetchRequest(replicaId: -1, maxWaitMs: 10, minBytes: 1, maxBytes: 1_048_576, topics: [
                .init(topic: topic, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 65_536)]),
            ], forgottenTopicsData: [.init(topic: topic, partitions: [1])]))
        case .listOffsets:
            return .listOffsets(ListOffsetsRequest(replicaId: -1, topics: [
                .init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: -1, maxNumOffsets: 1)]),
            ]))
        case .metadata:
            return .metadata(MetadataRequest(topics: [.init(name: topic)], allowAutoTopicCreation: true))
        case .offsetCommit:
            return .offsetCommit(OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: -1, memberId: "", topics: [
                .init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: 1, committedMetadata: "m")]),
            ]))
        case .offsetFetch:
            return .offsetFetch(OffsetFetchRequest(groupId: group, topics: [.init(name: topic, partitionIndexes: [0, 1])]))
        case .findCoordinator:
            return .findCoordinator(FindCoordinatorRequest(key: group, keyType: 0))
        case .joinGroup:
            return .joinGroup(JoinGroupRequest(
                groupId: group, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 100, memberId: "", protocolType: "consumer",
                protocols: [.init(name: "range", metadata: ByteBuffer(bytes: [0, 1, 0, 0, 0, 1, 0, 10]))]
            ))
        case .heartbeat:
            return .heartbeat(HeartbeatRequest(groupId: group, generationId: 1, memberId: "fuzz-member"))
        case .leaveGroup:
            return .leaveGroup(LeaveGroupRequest(groupId: group, memberId: "fuzz-member", members: [.init(memberId: "fuzz-member")]))
        case .syncGroup:
            return .syncGroup(SyncGroupRequest(groupId: group, generationId: 1, memberId: "fuzz-member", assignments: [
                .init(memberId: "fuzz-member", assignment: ByteBuffer(bytes: [0, 1, 0, 0, 0, 0])),
            ]))
        case .describeGroups:
            return .describeGroups(DescribeGroupsRequest(groups: [group]))
        case .listGroups:
            return .listGroups(ListGroupsRequest())
        case .apiVersions:
            return .apiVersions(ApiVersionsRequest(clientSoftwareName: "fuzz", clientSoftwareVersion: "1.0"))
        case .createTopics:
            return .createTopics(CreateTopicsRequest(topics: [
                .init(name: "fuzz-created", numPartitions: 2, replicationFactor: 1, configs: [.init(name: "retention.ms", value: "60000")]),
            ], timeoutMs: 1_000))
        case .deleteTopics:
            return .deleteTopics(DeleteTopicsRequest(topicNames: ["fuzz-created"], timeoutMs: 1_000))
        case .deleteRecords:
            return .deleteRecords(DeleteRecordsRequest(topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, offset: 1)])], timeoutMs: 1_000))
        case .initProducerId:
            return .initProducerId(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000))
        case .addPartitionsToTxn:
            return .addPartitionsToTxn(AddPartitionsToTxnRequest(
                transactionalId: "fuzz-txn", producerId: 0, producerEpoch: 0, topics: [.init(name: topic, partitions: [0, 1])]
            ))
        case .addOffsetsToTxn:
            return .addOffsetsToTxn(AddOffsetsToTxnRequest(transactionalId: "fuzz-txn", producerId: 0, producerEpoch: 0, groupId: group))
        case .txnOffsetCommit:
            return .txnOffsetCommit(TxnOffsetCommitRequest(transactionalId: "fuzz-txn", groupId: group, producerId: 0, producerEpoch: 0, topics: [
                .init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: 1, committedMetadata: "m")]),
            ]))
        case .endTxn:
            return .endTxn(EndTxnRequest(transactionalId: "fuzz-txn", producerId: 0, producerEpoch: 0, committed: true))
        case .describeConfigs:
            return .describeConfigs(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configurationKeys: ["retention.ms"])]))
        case .alterConfigs:
            return .alterConfigs(AlterConfigsRequest(resources: [
                .init(resourceType: 2, resourceName: topic, configs: [.init(name: "retention.ms", value: "120000")]),
            ]))
        case .createPartitions:
            return .createPartitions(CreatePartitionsRequest(topics: [.init(name: topic, count: 3, assignments: nil)], timeoutMs: 1_000))
        case .incrementalAlterConfigs:
            return .incrementalAlterConfigs(IncrementalAlterConfigsRequest(resources: [
                .init(resourceType: 2, resourceName: topic, configs: [.init(name: "retention.ms", configOperation: 0, value: "180000")]),
            ]))
        case .offsetDelete:
            return .offsetDelete(OffsetDeleteRequest(groupId: group, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0)])]))
        }
    }
}

/// One hostile input: bytes to send and whether to finish the connection politely afterwards.
struct FuzzInput {
    enum Kind: String, CaseIterable {
        case randomBytes, randomFrame, bitFlips, truncatedBody, shortLengthLie, longLengthLie, oversized,
             negativeSize, hugeArrayCount, garbledHeader, pipelined, droppedMidFrame
    }

    let kind: Kind
    let bytes: [UInt8]
    /// The client vanishes with a reset right after sending, instead of half-closing and
    /// waiting for the broker to close.
    var abandons: Bool { kind == .droppedMidFrame }

    /// A random input of a random kind, derived from the corpus.
    static func make(
        using random: inout SeededGenerator, corpus: [(api: ApiKey, version: Int16, bytes: [UInt8])], maxFrameBytes: Int
    ) -> FuzzInput {
        let kind = Kind.allCases.randomElement(using: &random) ?? .randomBytes
        let seed = corpus.randomElement(using: &random)?.bytes ?? []
        func randomBytes(_ range: ClosedRange<Int>) -> [UInt8] {
            (0..<Int.random(in: range, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        func withSize(_ size: Int32, _ body: some Collection<UInt8>) -> [UInt8] {
            withUnsafeBytes(of: size.bigEndian) { Array($0) } + body
        }
        let body = Array(seed.dropFirst(4))
        switch kind {
        case .randomBytes:
            return FuzzInput(kind: kind, bytes: randomBytes(0...256))
        case .randomFrame:
            let payload = randomBytes(0...256)
            return FuzzInput(kind: kind, bytes: withSize(Int32(payload.count), payload))
        case .bitFlips:
            var mutated = body
            for _ in 0..<Int.random(in: 1...8, using: &random) where !mutated.isEmpty {
                let index = Int.random(in: 0..<mutated.count, using: &random)
                mutated[index] ^= 1 << UInt8.random(in: 0...7, using: &random)
            }
            return FuzzInput(kind: kind, bytes: withSize(Int32(mutated.count), mutated))
        case .truncatedBody:
            let cut = Array(body.prefix(Int.random(in: 0...max(0, body.count - 1), using: &random)))
            return FuzzInput(kind: kind, bytes: withSize(Int32(cut.count), cut))
        case .shortLengthLie:
            return FuzzInput(kind: kind, bytes: withSize(Int32.random(in: 0...Int32(max(0, body.count - 1)), using: &random), body))
        case .longLengthLie:
            let claimed = Int32(clamping: body.count + Int.random(in: 1...10_000, using: &random))
            return FuzzInput(kind: kind, bytes: withSize(claimed, body))
        case .oversized:
            let claimed = Int32(clamping: maxFrameBytes + Int.random(in: 1...1_000_000, using: &random))
            return FuzzInput(kind: kind, bytes: withSize(claimed, body))
        case .negativeSize:
            return FuzzInput(kind: kind, bytes: withSize(Int32.random(in: Int32.min...(-1), using: &random), body))
        case .hugeArrayCount:
            // Overwrite four bytes after the header's fixed part, where array counts and
            // string lengths live, with a count no request could carry.
            var mutated = body
            let counts: [UInt32] = [0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000, 0x00FF_FFFF, 0xFFFF_FFFE, UInt32.random(in: 0...UInt32.max, using: &random)]
            if mutated.count >= 12 {
                let at = Int.random(in: 8...(mutated.count - 4), using: &random)
                let count = counts.randomElement(using: &random) ?? 0x7FFF_FFFF
                withUnsafeBytes(of: count.bigEndian) { mutated.replaceSubrange(at..<(at + 4), with: $0) }
            }
            return FuzzInput(kind: kind, bytes: withSize(Int32(mutated.count), mutated))
        case .garbledHeader:
            var mutated = body
            if mutated.count >= 4 {
                let field = Int.random(in: 0...1, using: &random) * 2  // api key or api version
                let value = Int16.random(in: Int16.min...Int16.max, using: &random)
                withUnsafeBytes(of: value.bigEndian) { mutated.replaceSubrange(field..<(field + 2), with: $0) }
            }
            return FuzzInput(kind: kind, bytes: withSize(Int32(mutated.count), mutated))
        case .pipelined:
            // Valid requests, then one that is cut short, in a single write.
            let second = corpus.randomElement(using: &random)?.bytes ?? []
            let tail = Array(body.prefix(Int.random(in: 0...body.count, using: &random)))
            let cutShort: [UInt8] = withSize(Int32(tail.count), tail)
            return FuzzInput(kind: kind, bytes: seed + second + cutShort)
        case .droppedMidFrame:
            return FuzzInput(kind: kind, bytes: Array(seed.prefix(Int.random(in: 0...max(0, seed.count - 1), using: &random))))
        }
    }
}
