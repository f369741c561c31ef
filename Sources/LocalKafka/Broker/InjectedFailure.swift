import KafkaWire
import NIOCore

/// Builds the answer to a request that an injected fault fails: the same shape the real
/// answer would have, with `error` in every place Kafka puts an error code.
enum InjectedFailure {
    static func response(to request: KafkaRequest, error: KafkaErrorCode, version: Int16) -> KafkaResponse? {
        let code = error.rawValue
        switch request {
        case .produce(let r):
            guard r.acks != 0 else { return nil }
            return .produce(ProduceResponse(responses: r.topicData.map { topic in
                .init(name: topic.name, partitionResponses: topic.partitionData.map {
                    .init(index: $0.index, errorCode: code, baseOffset: -1, errorMessage: "injected fault")
                })
            }))
        case .fetch(let r):
            return .fetch(FetchResponse(errorCode: 0, sessionId: 0, responses: r.topics.map { topic in
                .init(topic: topic.topic, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partition, errorCode: code, highWatermark: -1, lastStableOffset: -1,
                          logStartOffset: -1, records: ByteBuffer())
                })
            }))
        case .listOffsets(let r):
            return .listOffsets(ListOffsetsResponse(topics: r.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: code, timestamp: -1, offset: -1, leaderEpoch: -1)
                })
            }))
        case .metadata(let r):
            return .metadata(MetadataResponse(
                brokers: [], clusterId: nil, controllerId: -1,
                topics: (r.topics ?? []).map { .init(errorCode: code, name: $0.name, isInternal: false, partitions: []) }
            ))
        case .offsetCommit(let r):
            return .offsetCommit(OffsetCommitResponse(topics: r.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code) })
            }))
        case .offsetFetch(let r):
            return .offsetFetch(OffsetFetchResponse(topics: (r.topics ?? []).map { topic in
                .init(name: topic.name, partitions: topic.partitionIndexes.map {
                    .init(partitionIndex: $0, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: code)
                })
            }, errorCode: code))
        case .findCoordinator:
            return .findCoordinator(FindCoordinatorResponse(errorCode: code, errorMessage: "injected fault", nodeId: -1, host: "", port: -1))
        case .joinGroup(let r):
            return .joinGroup(JoinGroupResponse(errorCode: code, generationId: -1, memberId: r.memberId))
        case .heartbeat:
            return .heartbeat(HeartbeatResponse(errorCode: code))
        case .leaveGroup:
            return .leaveGroup(LeaveGroupResponse(errorCode: code))
        case .syncGroup:
            return .syncGroup(SyncGroupResponse(errorCode: code, assignment: ByteBuffer()))
        case .describeGroups(let r):
            return .describeGroups(DescribeGroupsResponse(groups: r.groups.map { .init(errorCode: code, groupId: $0) }))
        case .listGroups:
            return .listGroups(ListGroupsResponse(errorCode: code))
        case .apiVersions:
            return .apiVersions(ApiVersionsResponse(errorCode: code))
        case .createTopics(let r):
            return .createTopics(CreateTopicsResponse(topics: r.topics.map { .init(name: $0.name, errorCode: code, errorMessage: "injected fault") }))
        case .deleteTopics(let r):
            return .deleteTopics(DeleteTopicsResponse(responses: r.topicNames.map { .init(name: $0, errorCode: code) }))
        case .deleteRecords(let r):
            return .deleteRecords(DeleteRecordsResponse(topics: r.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, lowWatermark: -1, errorCode: code) })
            }))
        case .initProducerId:
            return .initProducerId(InitProducerIdResponse(errorCode: code, producerId: -1, producerEpoch: -1))
        case .addPartitionsToTxn(let r):
            return .addPartitionsToTxn(AddPartitionsToTxnResponse(results: r.topics.map { topic in
                .init(name: topic.name, results: topic.partitions.map { .init(partitionIndex: $0, errorCode: code) })
            }))
        case .addOffsetsToTxn:
            return .addOffsetsToTxn(AddOffsetsToTxnResponse(errorCode: code))
        case .endTxn:
            return .endTxn(EndTxnResponse(errorCode: code))
        case .txnOffsetCommit(let r):
            return .txnOffsetCommit(TxnOffsetCommitResponse(topics: r.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code) })
            }))
        case .describeConfigs(let r):
            return .describeConfigs(DescribeConfigsResponse(results: r.resources.map {
                .init(errorCode: code, errorMessage: "injected fault", resourceType: $0.resourceType, resourceName: $0.resourceName)
            }))
        case .alterConfigs(let r):
            return .alterConfigs(AlterConfigsResponse(responses: r.resources.map {
                .init(errorCode: code, errorMessage: "injected fault", resourceType: $0.resourceType, resourceName: $0.resourceName)
            }))
        case .incrementalAlterConfigs(let r):
            return .incrementalAlterConfigs(IncrementalAlterConfigsResponse(responses: r.resources.map {
                .init(errorCode: code, errorMessage: "injected fault", resourceType: $0.resourceType, resourceName: $0.resourceName)
            }))
        case .createPartitions(let r):
            return .createPartitions(CreatePartitionsResponse(results: r.topics.map { .init(name: $0.name, errorCode: code, errorMessage: "injected fault") }))
        case .offsetDelete:
            return .offsetDelete(OffsetDeleteResponse(errorCode: code))
        }
    }
}
