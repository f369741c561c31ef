import CRdKafka

/// A delivery report copied out of librdkafka: which send it answers (the message opaque)
/// and where the record landed or why it did not.
struct RDDeliveryReport: Sendable {
    let opaque: UInt
    let result: Result<DeliveredRecord, KafkaError>

    init(_ message: UnsafePointer<rd_kafka_message_t>) {
        let m = message.pointee
        opaque = UInt(bitPattern: m._private)
        let topic = TopicName(m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "")
        let partition = Partition(m.partition)
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &type)
            result = .success(
                DeliveredRecord(
                    topic: topic, partition: partition, offset: Offset(m.offset),
                    timestamp: timestamp >= 0 && type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                        ? KafkaTimestamp(milliseconds: timestamp) : nil))
        } else {
            // Not rd_kafka_message_errstr: in a delivery report the payload is the record itself.
            result = .failure(
                RDErrorCode.error(
                    m.err, while: "delivering a record to \(topic)", topic: topic,
                    partition: m.partition >= 0 ? partition : nil))
        }
    }
}
