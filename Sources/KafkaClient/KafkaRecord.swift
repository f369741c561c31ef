/// A record read from Kafka. Its bytes are copied out of librdkafka, so it outlives the consumer.
public struct KafkaRecord: Sendable, Hashable, CustomStringConvertible {
    public var topic: TopicName
    public var partition: Partition
    /// The offset of this record (commit `offset.next` once it is processed).
    public var offset: Offset
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    public var timestamp: KafkaTimestamp?
    public var timestampType: KafkaTimestampType?

    public init(
        topic: TopicName, partition: Partition, offset: Offset, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader], timestamp: KafkaTimestamp?, timestampType: KafkaTimestampType?
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.timestampType = timestampType
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The key decoded as UTF-8 (invalid bytes are replaced), for logs and demos.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    /// The value decoded as UTF-8 (invalid bytes are replaced), for logs and demos.
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}
