import CRdKafka

extension KafkaRecord {
    /// Copies a consumed message out of librdkafka (the caller destroys the message).
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let topic = TopicName(m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "")
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &type)
        let timestampType: KafkaTimestampType? =
            switch type {
            case RD_KAFKA_TIMESTAMP_CREATE_TIME: .createTime
            case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: .logAppendTime
            default: nil
            }
        self.init(
            topic: topic,
            partition: Partition(m.partition),
            offset: Offset(m.offset),
            key: Self.bytes(m.key, m.key_len),
            value: Self.bytes(m.payload, m.len),
            headers: Self.headers(of: message),
            timestamp: timestampType == nil ? nil : KafkaTimestamp(milliseconds: timestamp),
            timestampType: timestampType)
    }

    private static func bytes(_ pointer: UnsafeRawPointer?, _ count: Int) -> [UInt8]? {
        guard let pointer else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else {
            return []
        }
        let count = rd_kafka_header_cnt(headers)
        var result: [KafkaHeader] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR
            else { break }
            result.append(
                KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes(value, size)))
        }
        return result
    }
}
