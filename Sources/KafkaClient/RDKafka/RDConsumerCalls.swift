import CRdKafka

/// The consumer-only calls into librdkafka. Those marked blocking run on the consumer's
/// serial queue (see `KafkaConsumer`).
extension RDClient {
    static let offsetBeginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    static let offsetEnd = Int64(RD_KAFKA_OFFSET_END)
    static let offsetStored = Int64(RD_KAFKA_OFFSET_STORED)
    static let offsetInvalid = Int64(RD_KAFKA_OFFSET_INVALID)

    /// Replaces the assignment with these partitions, each starting at the given (possibly
    /// logical) offset.
    func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = RDTopicPartitionList(offsets)
        let result = rd_kafka_assign(handle, list.pointer)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: "assigning \(offsets.count) partitions")
        }
    }

    func subscribe(_ topics: [TopicName]) throws(KafkaError) {
        let list = RDTopicPartitionList(capacity: topics.count)
        for topic in topics { list.add(TopicPartition(topic, Partition(RD_KAFKA_PARTITION_UA)), offset: Self.offsetInvalid) }
        let result = rd_kafka_subscribe(handle, list.pointer)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: "subscribing to \(topics.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let result = rd_kafka_assignment(handle, &list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw RDErrorCode.error(result, while: "reading the consumer's assignment")
        }
        return RDTopicPartitionList(taking: list).elements.map(\.topicPartition)
    }

    func setPaused(_ partitions: [TopicPartition], paused: Bool) throws(KafkaError) {
        let list = RDTopicPartitionList(partitions)
        let result = paused ? rd_kafka_pause_partitions(handle, list.pointer) : rd_kafka_resume_partitions(handle, list.pointer)
        let what = paused ? "pausing" : "resuming"
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: "\(what) \(partitions.count) partitions")
        }
        if let error = list.firstError(while: what) { throw error }
    }

    /// The next offset to read of each partition whose position is known yet.
    func positions(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartition: Offset] {
        let list = RDTopicPartitionList(partitions)
        let result = rd_kafka_position(handle, list.pointer)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: "reading the consumer's positions")
        }
        var offsets: [TopicPartition: Offset] = [:]
        for element in list.elements where element.offset >= 0 && element.error == RD_KAFKA_RESP_ERR_NO_ERROR {
            offsets[element.topicPartition] = Offset(element.offset)
        }
        return offsets
    }

    /// Blocking: commits these next-offsets-to-read for the consumer's group.
    func commit(_ nextOffsets: [TopicPartition: Offset]) throws(KafkaError) {
        let list = RDTopicPartitionList(nextOffsets.mapValues(\.rawValue))
        let result = rd_kafka_commit(handle, list.pointer, 0)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: "committing offsets for \(nextOffsets.count) partitions")
        }
        if let error = list.firstError(while: "committing the offset") { throw error }
    }

    /// Blocking: the group's committed next-offset-to-read of each partition that has one.
    func committed(_ partitions: [TopicPartition], timeout: Duration) throws(KafkaError) -> [TopicPartition: Offset] {
        let list = RDTopicPartitionList(partitions)
        let result = rd_kafka_committed(handle, list.pointer, timeout.clampedMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: "reading committed offsets of \(partitions.count) partitions")
        }
        if let error = list.firstError(while: "reading the committed offset") { throw error }
        var offsets: [TopicPartition: Offset] = [:]
        for element in list.elements where element.offset >= 0 {
            offsets[element.topicPartition] = Offset(element.offset)
        }
        return offsets
    }

    /// Blocking: waits up to 100 ms for the first record, then takes what is ready, up to
    /// `limit`. Messages are copied out and destroyed here.
    ///
    /// An error that stops consumption ends the batch and comes back beside the records read
    /// before it: those have left librdkafka and must still reach the caller.
    func pollRecords(limit: Int) -> (records: [KafkaRecord], error: KafkaError?) {
        var records: [KafkaRecord] = []
        var timeout: Int32 = 100
        while records.count < limit, let message = rd_kafka_consumer_poll(handle, timeout) {
            timeout = 0
            defer { rd_kafka_message_destroy(message) }
            let code = message.pointee.err
            if code == RD_KAFKA_RESP_ERR_NO_ERROR {
                records.append(KafkaRecord(copying: message))
                continue
            }
            do {
                try report(consumeError: message)
            } catch {
                return (records, error)
            }
        }
        return (records, nil)
    }

    /// Consumer errors come as messages; most are informational (librdkafka recovers by
    /// itself) and are logged, the ones that stop consumption are thrown.
    private func report(consumeError message: UnsafeMutablePointer<rd_kafka_message_t>) throws(KafkaError) {
        let m = message.pointee
        if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
        let topic = m.rkt.map { TopicName(String(cString: rd_kafka_topic_name($0))) }
        var error = RDErrorCode.error(
            m.err, while: "consuming", detail: rd_kafka_message_errstr(message).map { String(cString: $0) },
            topic: topic, partition: m.partition >= 0 ? Partition(m.partition) : nil)
        switch m.err {
        case RD_KAFKA_RESP_ERR__FATAL:
            error.isFatal = true
            throw fatalError ?? error
        case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
            throw error
        default:
            logger.warning("consumer: \(error)")
        }
    }

    /// Blocking: leaves the group (committing if auto-commit is on) and stops fetching.
    func closeConsumer() {
        let result = rd_kafka_consumer_close(handle)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("closing the consumer: \(RDErrorCode.error(result, while: "closing the consumer"))")
        }
    }
}
