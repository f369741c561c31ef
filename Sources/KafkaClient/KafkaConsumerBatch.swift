/// One poll's worth of records, with the consumer's positions taken right after it.
///
/// Every record below a partition's position has been returned, by this batch or an earlier
/// one. A position can lie beyond the batch's last record of the partition: under
/// `read_committed`, librdkafka moves it past transaction markers and aborted records, for
/// which it returns no record.
public struct KafkaConsumerBatch: Sendable {
    public var records: [KafkaRecord]
    /// The next offset to read per assigned partition whose position is known.
    public var positions: [TopicPartition: Offset]
}
