import CRdKafka

/// Offset look-ups any client handle can make. All block: call them through `RDBlocking`.
extension RDClient {
    func watermarks(of partition: TopicPartition, timeout: Duration) throws(KafkaError) -> Watermarks {
        var low: Int64 = 0
        var high: Int64 = 0
        let result = rd_kafka_query_watermark_offsets(
            handle, partition.topic.rawValue, partition.partition.rawValue, &low, &high,
            timeout.clampedMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(
                result, while: "querying the watermarks of \(partition)", topic: partition.topic,
                partition: partition.partition)
        }
        return Watermarks(low: Offset(low), high: Offset(high))
    }

    /// For each partition, the offset of the first record whose timestamp is at or after the
    /// given one, or `nil` if there is none (the partition ends before that time).
    func offsets(forTimes times: [TopicPartition: KafkaTimestamp], timeout: Duration) throws(KafkaError)
        -> [TopicPartition: Offset?]
    {
        guard !times.isEmpty else { return [:] }
        let list = RDTopicPartitionList(times.mapValues(\.milliseconds))
        let result = rd_kafka_offsets_for_times(handle, list.pointer, timeout.clampedMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: "looking up offsets by timestamp")
        }
        if let error = list.firstError(while: "looking up offsets by timestamp") { throw error }
        var offsets: [TopicPartition: Offset?] = [:]
        for element in list.elements {
            offsets[element.topicPartition] = element.offset >= 0 ? Offset(element.offset) : nil
        }
        return offsets
    }
}
