import CRdKafka

/// Topic administration through librdkafka's admin API. All blocking.
extension RDClient {
    func metadata(timeout: Duration) throws(KafkaError) -> [TopicName: TopicMetadata] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(handle, 1, nil, &metadata, timeout.clampedMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw RDErrorCode.error(result, while: "reading cluster metadata")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var topics: [TopicName: TopicMetadata] = [:]
        let m = metadata.pointee
        guard let topicArray = m.topics, m.topic_cnt > 0 else { return topics }
        for t in UnsafeBufferPointer(start: topicArray, count: Int(m.topic_cnt)) {
            let name = TopicName(t.topic.map { String(cString: $0) } ?? "")
            var partitions: [PartitionMetadata] = []
            if let partitionArray = t.partitions, t.partition_cnt > 0 {
                for p in UnsafeBufferPointer(start: partitionArray, count: Int(t.partition_cnt)) {
                    partitions.append(
                        PartitionMetadata(
                            partition: Partition(p.id), leader: p.leader,
                            replicas: Self.brokerIDs(p.replicas, p.replica_cnt),
                            inSyncReplicas: Self.brokerIDs(p.isrs, p.isr_cnt),
                            error: p.err == RD_KAFKA_RESP_ERR_NO_ERROR
                                ? nil : RDErrorCode.error(p.err, while: "reading metadata of \(name)[\(p.id)]", topic: name, partition: Partition(p.id))))
                }
            }
            topics[name] = TopicMetadata(
                name: name, partitions: partitions.sorted { $0.partition < $1.partition },
                error: t.err == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? nil : RDErrorCode.error(t.err, while: "reading metadata of \(name)", topic: name))
        }
        return topics
    }

    private static func brokerIDs(_ pointer: UnsafeMutablePointer<Int32>?, _ count: Int32) -> [Int32] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(count)))
    }

    func createTopics(_ topics: [NewTopic], timeout: Duration) throws(KafkaError) -> [TopicName: Result<Void, KafkaError>] {
        var handles: [OpaquePointer?] = []
        defer { for handle in handles { rd_kafka_NewTopic_destroy(handle) } }
        for topic in topics {
            var errstr = [CChar](repeating: 0, count: 512)
            let created = errstr.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_NewTopic_new(topic.name.rawValue, topic.partitions, topic.replicationFactor, buffer.baseAddress, buffer.count)
            }
            guard let created else {
                throw KafkaError(
                    code: .invalidArgument, message: "creating topic \(topic.name) failed: \(String(cBuffer: errstr)).",
                    isRetriable: false, topic: topic.name)
            }
            handles.append(created)
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                let result = rd_kafka_NewTopic_set_config(created, key, value)
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError.invalidConfiguration(key: key, value: value, reason: RDErrorCode.text(of: result.rawValue))
                        .on(topic.name)
                }
            }
        }
        return try adminRequest(RD_KAFKA_ADMIN_OP_CREATETOPICS, "creating topics", timeout: timeout) { options, queue in
            rd_kafka_AdminOptions_set_operation_timeout(options, timeout.clampedMilliseconds, nil, 0)
            handles.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } parse: { event in
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            return Self.topicOutcomes(results, count: count, "creating topic")
        }
    }

    func createPartitions(_ totals: [TopicName: Int], timeout: Duration) throws(KafkaError) -> [TopicName: Result<Void, KafkaError>] {
        var handles: [OpaquePointer?] = []
        defer { for handle in handles { rd_kafka_NewPartitions_destroy(handle) } }
        for (topic, total) in totals.sorted(by: { $0.key < $1.key }) {
            var errstr = [CChar](repeating: 0, count: 512)
            let created = errstr.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_NewPartitions_new(topic.rawValue, max(0, total), buffer.baseAddress, buffer.count)
            }
            guard let created else {
                throw KafkaError(
                    code: .invalidArgument, message: "growing \(topic) to \(total) partitions failed: \(String(cBuffer: errstr)).",
                    isRetriable: false, topic: topic)
            }
            handles.append(created)
        }
        return try adminRequest(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, "creating partitions", timeout: timeout) { options, queue in
            rd_kafka_AdminOptions_set_operation_timeout(options, timeout.clampedMilliseconds, nil, 0)
            handles.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreatePartitions(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } parse: { event in
            var count = 0
            let results = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event), &count)
            return Self.topicOutcomes(results, count: count, "creating partitions of")
        }
    }

    func deleteTopics(_ topics: [TopicName], timeout: Duration) throws(KafkaError) -> [TopicName: Result<Void, KafkaError>] {
        var handles: [OpaquePointer?] = topics.map { rd_kafka_DeleteTopic_new($0.rawValue) }
        defer { for handle in handles { rd_kafka_DeleteTopic_destroy(handle) } }
        return try adminRequest(RD_KAFKA_ADMIN_OP_DELETETOPICS, "deleting topics", timeout: timeout) { options, queue in
            rd_kafka_AdminOptions_set_operation_timeout(options, timeout.clampedMilliseconds, nil, 0)
            handles.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_DeleteTopics(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } parse: { event in
            var count = 0
            let results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
            return Self.topicOutcomes(results, count: count, "deleting topic")
        }
    }

    func deleteRecords(before offsets: [TopicPartition: Offset], timeout: Duration) throws(KafkaError)
        -> [TopicPartition: Result<Offset, KafkaError>]
    {
        let list = RDTopicPartitionList(offsets.mapValues(\.rawValue))
        var request: OpaquePointer? = rd_kafka_DeleteRecords_new(list.pointer)
        defer { rd_kafka_DeleteRecords_destroy(request) }
        return try adminRequest(RD_KAFKA_ADMIN_OP_DELETERECORDS, "deleting records", timeout: timeout) { options, queue in
            rd_kafka_AdminOptions_set_operation_timeout(options, timeout.clampedMilliseconds, nil, 0)
            rd_kafka_DeleteRecords(handle, &request, 1, options, queue)
        } parse: { event in
            var outcomes: [TopicPartition: Result<Offset, KafkaError>] = [:]
            guard let result = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event)) else {
                return outcomes
            }
            for element in RDTopicPartitionList(borrowing: UnsafeMutablePointer(mutating: result)).elements {
                let tp = element.topicPartition
                outcomes[tp] =
                    element.error == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? .success(Offset(element.offset))
                    : .failure(RDErrorCode.error(element.error, while: "deleting records of \(tp)", topic: tp.topic, partition: tp.partition))
            }
            return outcomes
        }
    }
}
