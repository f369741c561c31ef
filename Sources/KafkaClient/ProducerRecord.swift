/// A record to send to Kafka.
public struct ProducerRecord: Sendable, Hashable {
    public var topic: TopicName
    /// The partition to write to; `nil` lets the partitioner choose (by key hash when a key is set).
    public var partition: Partition?
    public var key: [UInt8]?
    /// The payload; `nil` is a tombstone on compacted topics.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// The create time; `nil` lets librdkafka stamp the time of the send.
    public var timestamp: KafkaTimestamp?

    public init(
        topic: TopicName,
        partition: Partition? = nil,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestamp: KafkaTimestamp? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A record whose key and value are the UTF-8 bytes of strings.
    public init(
        topic: TopicName,
        partition: Partition? = nil,
        key: String? = nil,
        value: String,
        headers: [KafkaHeader] = [],
        timestamp: KafkaTimestamp? = nil
    ) {
        self.init(
            topic: topic, partition: partition, key: key.map { Array($0.utf8) }, value: Array(value.utf8),
            headers: headers, timestamp: timestamp)
    }
}

/// Where Kafka stored a record the producer sent, from its delivery report.
public struct DeliveredRecord: Sendable, Hashable, CustomStringConvertible {
    public var topic: TopicName
    public var partition: Partition
    public var offset: Offset
    /// The record's timestamp as the broker reported it, when known.
    public var timestamp: KafkaTimestamp?

    public init(topic: TopicName, partition: Partition, offset: Offset, timestamp: KafkaTimestamp?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}
