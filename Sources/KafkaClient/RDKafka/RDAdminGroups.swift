import CRdKafka

/// Consumer group administration. All blocking.
extension RDClient {
    func listConsumerGroups(timeout: Duration) throws(KafkaError) -> ConsumerGroupList {
        try adminRequest(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, "listing consumer groups", timeout: timeout) { options, queue in
            rd_kafka_ListConsumerGroups(handle, options, queue)
        } parse: { event in
            let result = rd_kafka_event_ListConsumerGroups_result(event)
            var validCount = 0
            var groups: [ConsumerGroupListing] = []
            if let valid = rd_kafka_ListConsumerGroups_result_valid(result, &validCount) {
                for index in 0..<validCount {
                    guard let listing = valid[index] else { continue }
                    groups.append(
                        ConsumerGroupListing(
                            id: GroupID(String(cString: rd_kafka_ConsumerGroupListing_group_id(listing))),
                            isSimple: rd_kafka_ConsumerGroupListing_is_simple_consumer_group(listing) != 0,
                            state: ConsumerGroupState(rd_kafka_ConsumerGroupListing_state(listing))))
                }
            }
            var errorCount = 0
            var errors: [KafkaError] = []
            if let failed = rd_kafka_ListConsumerGroups_result_errors(result, &errorCount) {
                for index in 0..<errorCount {
                    guard let error = failed[index] else { continue }
                    errors.append(RDErrorCode.borrowed(error, while: "listing consumer groups"))
                }
            }
            return ConsumerGroupList(groups: groups.sorted { $0.id < $1.id }, errors: errors)
        }
    }

    func describeConsumerGroups(_ groups: [GroupID], timeout: Duration) throws(KafkaError)
        -> [GroupID: Result<ConsumerGroupDescription, KafkaError>]
    {
        var arena = RDArena(capacity: groups.reduce(0) { $0 + $1.rawValue.utf8.count + 1 })
        defer { arena.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = groups.map { arena.cString($0.rawValue) }
        return try adminRequest(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, "describing consumer groups", timeout: timeout) { options, queue in
            pointers.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_DescribeConsumerGroups(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } parse: { event in
            var count = 0
            var outcomes: [GroupID: Result<ConsumerGroupDescription, KafkaError>] = [:]
            guard let results = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(event), &count)
            else { return outcomes }
            for index in 0..<count {
                guard let description = results[index] else { continue }
                let id = GroupID(String(cString: rd_kafka_ConsumerGroupDescription_group_id(description)))
                if let error = rd_kafka_ConsumerGroupDescription_error(description) {
                    outcomes[id] = .failure(RDErrorCode.borrowed(error, while: "describing group \(id)"))
                    continue
                }
                outcomes[id] = .success(Self.description(of: description, id: id))
            }
            return outcomes
        }
    }

    private static func description(of group: OpaquePointer, id: GroupID) -> ConsumerGroupDescription {
        var members: [ConsumerGroupMember] = []
        for index in 0..<rd_kafka_ConsumerGroupDescription_member_count(group) {
            guard let member = rd_kafka_ConsumerGroupDescription_member(group, index) else { continue }
            var assignment: [TopicPartition] = []
            if let assigned = rd_kafka_MemberDescription_assignment(member),
                let partitions = rd_kafka_MemberAssignment_partitions(assigned)
            {
                assignment = RDTopicPartitionList(borrowing: UnsafeMutablePointer(mutating: partitions)).elements
                    .map(\.topicPartition).sorted()
            }
            members.append(
                ConsumerGroupMember(
                    memberID: String(cString: rd_kafka_MemberDescription_consumer_id(member)),
                    clientID: String(cString: rd_kafka_MemberDescription_client_id(member)),
                    host: String(cString: rd_kafka_MemberDescription_host(member)),
                    groupInstanceID: rd_kafka_MemberDescription_group_instance_id(member).map { String(cString: $0) },
                    assignment: assignment))
        }
        let coordinator = rd_kafka_ConsumerGroupDescription_coordinator(group).map { Int32(rd_kafka_Node_id($0)) }
        return ConsumerGroupDescription(
            id: id,
            state: ConsumerGroupState(rd_kafka_ConsumerGroupDescription_state(group)),
            isSimple: rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(group) != 0,
            partitionAssignor: rd_kafka_ConsumerGroupDescription_partition_assignor(group).map { String(cString: $0) } ?? "",
            coordinator: coordinator,
            members: members)
    }

    /// The group's committed next offsets to read; `partitions` nil asks for all of them.
    func groupOffsets(_ group: GroupID, partitions: [TopicPartition]?, timeout: Duration) throws(KafkaError)
        -> [TopicPartition: Offset]
    {
        let list = partitions.map { RDTopicPartitionList($0) }
        var request: OpaquePointer? = rd_kafka_ListConsumerGroupOffsets_new(group.rawValue, list?.pointer)
        defer { rd_kafka_ListConsumerGroupOffsets_destroy(request) }
        let what = "reading the committed offsets of group \(group)"
        return try adminRequest(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, what, timeout: timeout) { options, queue in
            rd_kafka_ListConsumerGroupOffsets(handle, &request, 1, options, queue)
        } parse: { event throws(KafkaError) in
            var count = 0
            let results = rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(event), &count)
            var offsets: [TopicPartition: Offset] = [:]
            for element in try Self.groupPartitions(results, count: count, what) where element.offset >= 0 {
                offsets[element.topicPartition] = Offset(element.offset)
            }
            return offsets
        }
    }

    /// Sets the group's committed next offsets to read. Kafka refuses while the group has members.
    func alterGroupOffsets(_ group: GroupID, _ nextOffsets: [TopicPartition: Offset], timeout: Duration) throws(KafkaError)
        -> [TopicPartition: Result<Void, KafkaError>]
    {
        let list = RDTopicPartitionList(nextOffsets.mapValues(\.rawValue))
        var request: OpaquePointer? = rd_kafka_AlterConsumerGroupOffsets_new(group.rawValue, list.pointer)
        defer { rd_kafka_AlterConsumerGroupOffsets_destroy(request) }
        let what = "altering the committed offsets of group \(group)"
        return try adminRequest(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, what, timeout: timeout) { options, queue in
            rd_kafka_AlterConsumerGroupOffsets(handle, &request, 1, options, queue)
        } parse: { event throws(KafkaError) in
            var count = 0
            let results = rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(event), &count)
            var outcomes: [TopicPartition: Result<Void, KafkaError>] = [:]
            for element in try Self.groupPartitions(results, count: count, what) {
                let tp = element.topicPartition
                outcomes[tp] =
                    element.error == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? .success(())
                    : .failure(RDErrorCode.error(element.error, while: "\(what) for \(tp)", topic: tp.topic, partition: tp.partition))
            }
            return outcomes
        }
    }

    func deleteGroupOffsets(_ group: GroupID, _ partitions: [TopicPartition], timeout: Duration) throws(KafkaError)
        -> [TopicPartition: Result<Void, KafkaError>]
    {
        let list = RDTopicPartitionList(Array(Set(partitions)))
        var request: OpaquePointer? = rd_kafka_DeleteConsumerGroupOffsets_new(group.rawValue, list.pointer)
        defer { rd_kafka_DeleteConsumerGroupOffsets_destroy(request) }
        let what = "deleting the committed offsets of group \(group)"
        return try adminRequest(RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS, what, timeout: timeout) { options, queue in
            rd_kafka_DeleteConsumerGroupOffsets(handle, &request, 1, options, queue)
        } parse: { event throws(KafkaError) in
            var count = 0
            let results = rd_kafka_DeleteConsumerGroupOffsets_result_groups(rd_kafka_event_DeleteConsumerGroupOffsets_result(event), &count)
            var outcomes: [TopicPartition: Result<Void, KafkaError>] = [:]
            for element in try Self.groupPartitions(results, count: count, what) {
                let tp = element.topicPartition
                outcomes[tp] =
                    element.error == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? .success(())
                    : .failure(RDErrorCode.error(element.error, while: "\(what) for \(tp)", topic: tp.topic, partition: tp.partition))
            }
            return outcomes
        }
    }

    /// The partitions of the single group result, or the group's error.
    private static func groupPartitions(
        _ results: UnsafeMutablePointer<OpaquePointer?>?, count: Int, _ what: String
    ) throws(KafkaError) -> [RDTopicPartitionList.Element] {
        guard let results, count > 0, let group = results[0] else { return [] }
        if let error = rd_kafka_group_result_error(group) {
            throw RDErrorCode.borrowed(error, while: what)
        }
        guard let partitions = rd_kafka_group_result_partitions(group) else { return [] }
        return RDTopicPartitionList(borrowing: UnsafeMutablePointer(mutating: partitions)).elements
    }
}

extension ConsumerGroupState {
    init(_ state: rd_kafka_consumer_group_state_t) {
        switch state {
        case RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE: self = .preparingRebalance
        case RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE: self = .completingRebalance
        case RD_KAFKA_CONSUMER_GROUP_STATE_STABLE: self = .stable
        case RD_KAFKA_CONSUMER_GROUP_STATE_DEAD: self = .dead
        case RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY: self = .empty
        default: self = .unknown
        }
    }
}
