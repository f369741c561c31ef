import CRdKafka

/// Runs one admin request: options, a private result queue, the request, and waiting for its
/// result event. Blocking: call through `RDBlocking`.
extension RDClient {
    func adminRequest<T>(
        _ operation: rd_kafka_admin_op_t,
        _ what: String,
        timeout: Duration,
        start: (_ options: OpaquePointer, _ queue: OpaquePointer) -> Void,
        parse: (_ event: OpaquePointer) throws(KafkaError) -> T
    ) throws(KafkaError) -> T {
        guard let queue = rd_kafka_queue_new(handle) else {
            throw KafkaError(code: .failed, message: "\(what) failed: no result queue could be created.")
        }
        defer { rd_kafka_queue_destroy(queue) }
        guard let options = rd_kafka_AdminOptions_new(handle, operation) else {
            throw KafkaError(code: .failed, message: "\(what) failed: no admin options could be created.")
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        let milliseconds = timeout.clampedMilliseconds
        _ = errstr.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, buffer.baseAddress, buffer.count)
        }

        start(options, queue)

        // librdkafka always answers a request within its timeout; the margin covers scheduling.
        guard let event = rd_kafka_queue_poll(queue, milliseconds &+ 5_000) else {
            throw KafkaError(
                code: .timedOut, message: "\(what) got no answer within \(timeout); check the cluster and retry.",
                isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let code = rd_kafka_event_error(event)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(code, while: what, detail: rd_kafka_event_error_string(event).map { String(cString: $0) })
        }
        return try parse(event)
    }

    /// Per-topic outcomes of CreateTopics, DeleteTopics and CreatePartitions.
    static func topicOutcomes(
        _ results: UnsafeMutablePointer<OpaquePointer?>?, count: Int, _ what: String
    ) -> [TopicName: Result<Void, KafkaError>] {
        var outcomes: [TopicName: Result<Void, KafkaError>] = [:]
        guard let results else { return outcomes }
        for index in 0..<count {
            guard let result = results[index] else { continue }
            let topic = TopicName(String(cString: rd_kafka_topic_result_name(result)))
            let code = rd_kafka_topic_result_error(result)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR {
                outcomes[topic] = .success(())
            } else {
                outcomes[topic] = .failure(
                    RDErrorCode.error(
                        code, while: "\(what) \(topic)",
                        detail: rd_kafka_topic_result_error_string(result).map { String(cString: $0) }, topic: topic))
            }
        }
        return outcomes
    }
}
