import KafkaWire

/// Committed consumer-group offsets: OffsetCommit, OffsetFetch, OffsetDelete.
extension BrokerCore {
    func offsetCommit(_ request: OffsetCommitRequest) -> OffsetCommitResponse {
        let refusal = groups.validateOffsetCommit(
            groupID: GroupID(request.groupId), generationID: GenerationID(request.generationIdOrMemberEpoch),
            memberID: MemberID(request.memberId), groupInstanceID: request.groupInstanceId.map { GroupInstanceID($0) },
            now: .now
        )
        let commitTime = nowMs
        var accepted: [CommittedOffset] = []
        var topics = request.topics.map { topic in
            OffsetCommitResponse.OffsetCommitResponseTopic(name: topic.name, partitions: topic.partitions.map { partition in
                let code: KafkaErrorCode
                if let refusal {
                    code = KafkaErrorCode(rawValue: refusal.rawValue)
                } else if store.partition(topic.name, partition.partitionIndex) == nil {
                    code = .unknownTopicOrPartition
                } else {
                    code = .none
                    accepted.append(CommittedOffset(
                        topic: topic.name, partition: partition.partitionIndex, offset: partition.committedOffset,
                        leaderEpoch: partition.committedLeaderEpoch, metadata: partition.committedMetadata,
                        commitTimestampMs: commitTime
                    ))
                }
                return .init(partitionIndex: partition.partitionIndex, errorCode: code.rawValue)
            })
        }
        if !accepted.isEmpty {
            do {
                try store.groupOffsets.commit(group: request.groupId, offsets: accepted)
            } catch {
                logger.error("cannot persist committed offsets", metadata: ["group": "\(request.groupId)", "error": "\(error)"])
                for t in topics.indices {
                    for p in topics[t].partitions.indices where topics[t].partitions[p].errorCode == 0 {
                        topics[t].partitions[p].errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                    }
                }
            }
        }
        return OffsetCommitResponse(topics: topics)
    }

    func offsetFetch(_ request: OffsetFetchRequest) -> OffsetFetchResponse {
        let committed = store.groupOffsets.fetch(group: request.groupId)
        let topics: [OffsetFetchResponse.OffsetFetchResponseTopic]
        if let wanted = request.topics {
            topics = wanted.map { topic in
                .init(name: topic.name, partitions: topic.partitionIndexes.map { index in
                    let entry = committed.first { $0.topic == topic.name && $0.partition == index }
                    return Self.fetched(entry, partition: index)
                })
            }
        } else {
            // A null topic list (v2+) asks for every committed offset of the group.
            let byTopic = Dictionary(grouping: committed, by: \.topic)
            topics = byTopic.keys.sorted().map { name in
                .init(name: name, partitions: (byTopic[name] ?? []).sorted { $0.partition < $1.partition }.map {
                    Self.fetched($0, partition: $0.partition)
                })
            }
        }
        return OffsetFetchResponse(topics: topics, errorCode: 0)
    }

    private static func fetched(_ entry: CommittedOffset?, partition: Int32) -> OffsetFetchResponse.OffsetFetchResponseTopic.OffsetFetchResponsePartition {
        guard let entry else {
            // Kafka answers "no committed offset" with -1 and no error.
            return .init(partitionIndex: partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: 0)
        }
        return .init(partitionIndex: partition, committedOffset: entry.offset, committedLeaderEpoch: entry.leaderEpoch,
                     metadata: entry.metadata ?? "", errorCode: 0)
    }

    func offsetDelete(_ request: OffsetDeleteRequest) -> OffsetDeleteResponse {
        let group = groups.describe(groupID: GroupID(request.groupId))
        let subscribed = Self.subscribedTopics(of: group)
        var deletions: [(topic: String, partition: Int32)] = []
        let topics = request.topics.map { topic in
            OffsetDeleteResponse.OffsetDeleteResponseTopic(name: topic.name, partitions: topic.partitions.map { partition in
                let code: KafkaErrorCode
                if subscribed.contains(topic.name) {
                    code = .groupSubscribedToTopic
                } else if store.partition(topic.name, partition.partitionIndex) == nil {
                    code = .unknownTopicOrPartition
                } else {
                    code = .none
                    deletions.append((topic.name, partition.partitionIndex))
                }
                return .init(partitionIndex: partition.partitionIndex, errorCode: code.rawValue)
            })
        }
        let knownGroup = group.state != .dead || !store.groupOffsets.fetch(group: request.groupId).isEmpty
        guard knownGroup else {
            return OffsetDeleteResponse(errorCode: KafkaErrorCode.groupIdNotFound.rawValue, topics: [])
        }
        do {
            try store.groupOffsets.delete(group: request.groupId, partitions: deletions)
        } catch {
            logger.error("cannot delete committed offsets", metadata: ["group": "\(request.groupId)", "error": "\(error)"])
            return OffsetDeleteResponse(errorCode: KafkaErrorCode.kafkaStorageError.rawValue, topics: [])
        }
        return OffsetDeleteResponse(errorCode: 0, topics: topics)
    }

    /// The topics whose offsets a live group still uses, which OffsetDelete must keep (Kafka's
    /// GROUP_SUBSCRIBED_TO_TOPIC rule).
    private static func subscribedTopics(of group: GroupDescription) -> TopicFilter {
        guard !group.members.isEmpty else { return .none }
        // Members' subscriptions are known only while the group is Stable, and only for the
        // consumer protocol; otherwise every topic counts as in use, as in Kafka.
        guard group.state == .stable, group.protocolType == "consumer" else { return .all }
        var topics = Set<String>()
        for member in group.members {
            guard let subscription = ConsumerSubscription.topics(in: member.metadata) else { return .all }
            topics.formUnion(subscription)
        }
        return .some(topics)
    }

    enum TopicFilter {
        case none, all
        case some(Set<String>)

        func contains(_ topic: String) -> Bool {
            switch self {
            case .none: false
            case .all: true
            case .some(let topics): topics.contains(topic)
            }
        }
    }
}
