import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t`.
final class RDTopicPartitionList {
    /// One element as Swift values: `offset` holds whatever the call stored there (an offset,
    /// a logical offset, or a timestamp for `offsets_for_times`).
    struct Element {
        var topicPartition: TopicPartition
        var offset: Int64
        var error: rd_kafka_resp_err_t
    }

    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    private let owned: Bool

    init(capacity: Int) {
        pointer = rd_kafka_topic_partition_list_new(Int32(clamping: Swift.max(capacity, 1)))
        owned = true
    }

    /// Takes over a list librdkafka handed to us.
    init(taking pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
        owned = true
    }

    /// Reads a list that belongs to someone else (an admin result); it is not destroyed.
    init(borrowing pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
        owned = false
    }

    convenience init(_ offsets: [TopicPartition: Int64]) {
        self.init(capacity: offsets.count)
        for (topicPartition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            add(topicPartition, offset: offset)
        }
    }

    convenience init(_ partitions: [TopicPartition], offset: Int64 = Int64(RD_KAFKA_OFFSET_INVALID)) {
        self.init(capacity: partitions.count)
        for topicPartition in partitions { add(topicPartition, offset: offset) }
    }

    deinit {
        if owned { rd_kafka_topic_partition_list_destroy(pointer) }
    }

    func add(_ topicPartition: TopicPartition, offset: Int64) {
        guard
            let element = rd_kafka_topic_partition_list_add(
                pointer, topicPartition.topic.rawValue, topicPartition.partition.rawValue)
        else { return }
        element.pointee.offset = offset
    }

    var elements: [Element] {
        let list = pointer.pointee
        guard let base = list.elems, list.cnt > 0 else { return [] }
        return (0..<Int(list.cnt)).map { index in
            let element = base[index]
            return Element(
                topicPartition: TopicPartition(
                    TopicName(element.topic.map { String(cString: $0) } ?? ""), Partition(element.partition)),
                offset: element.offset, error: element.err)
        }
    }

    /// The first per-partition error, as a value naming its partition.
    func firstError(while what: String) -> KafkaError? {
        guard let failed = elements.first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) else { return nil }
        return RDErrorCode.error(
            failed.error, while: "\(what) for \(failed.topicPartition)",
            topic: failed.topicPartition.topic, partition: failed.topicPartition.partition)
    }
}
