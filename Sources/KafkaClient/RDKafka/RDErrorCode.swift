import CRdKafka

/// Turns librdkafka error codes and error objects into ``KafkaError`` values.
enum RDErrorCode {
    static func name(of rawValue: Int32) -> String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue)))
    }

    static func text(of rawValue: Int32) -> String {
        String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: rawValue)))
    }

    /// An error for `code` raised while doing `what`, with librdkafka's text and advice.
    static func error(
        _ code: rd_kafka_resp_err_t, while what: String, detail: String? = nil,
        topic: TopicName? = nil, partition: Partition? = nil
    ) -> KafkaError {
        let kafkaCode = KafkaError.Code(rawValue: code.rawValue)
        let reason = detail.flatMap { $0.isEmpty ? nil : $0 } ?? text(of: code.rawValue)
        return KafkaError(
            code: kafkaCode,
            message: "\(what) failed: \(reason). \(advice(for: kafkaCode))",
            topic: topic, partition: partition)
    }

    /// Takes over an `rd_kafka_error_t` (destroying it) and returns it as a value.
    static func take(_ error: OpaquePointer, while what: String) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        let code = KafkaError.Code(rawValue: rd_kafka_error_code(error).rawValue)
        let reason = String(cString: rd_kafka_error_string(error))
        return KafkaError(
            code: code,
            message: "\(what) failed: \(reason). \(advice(for: code))",
            isRetriable: rd_kafka_error_is_retriable(error) != 0 || code.isRetriableByDefault,
            isFatal: rd_kafka_error_is_fatal(error) != 0)
    }

    /// Converts a borrowed `rd_kafka_error_t` (owned by a result) to a value.
    static func borrowed(_ error: OpaquePointer, while what: String) -> KafkaError {
        let code = KafkaError.Code(rawValue: rd_kafka_error_code(error).rawValue)
        let reason = String(cString: rd_kafka_error_string(error))
        return KafkaError(
            code: code,
            message: "\(what) failed: \(reason). \(advice(for: code))",
            isRetriable: rd_kafka_error_is_retriable(error) != 0 || code.isRetriableByDefault,
            isFatal: rd_kafka_error_is_fatal(error) != 0)
    }

    /// What an operator or caller should do about an error with this code.
    static func advice(for code: KafkaError.Code) -> String {
        switch code {
        case .transport, .allBrokersDown:
            return "Check that the brokers are up and reachable; the client reconnects by itself."
        case .timedOut, .messageTimedOut, .requestTimedOut:
            return "The cluster did not answer in time; retry, or raise the timeout if it is busy."
        case .queueFull:
            return "Too many records are waiting to be sent; wait for deliveries or raise maxQueuedRecords."
        case .unknownTopic, .unknownTopicOrPartition, .unknownPartition:
            return "Create the topic (or partition) first, or check its name."
        case .leaderNotAvailable, .notLeaderForPartition, .notCoordinator, .coordinatorNotAvailable,
            .rebalanceInProgress:
            return "Leadership is moving; retry shortly."
        case .topicAuthorizationFailed, .groupAuthorizationFailed, .clusterAuthorizationFailed:
            return "Grant this client's principal the needed ACL or use other credentials."
        case .fatal, .producerFenced, .invalidProducerEpoch, .outOfOrderSequence:
            return "The client cannot continue; shut it down and create a new one."
        case .autoOffsetReset, .offsetOutOfRange:
            return "The position is outside the log (records were deleted, or the offset is wrong); assign a valid start."
        case .invalidArgument:
            return "Check the arguments and configuration passed to this call."
        case .unsupportedFeature, .unsupportedVersion, .notImplemented:
            return "The broker or this librdkafka version does not support it; use a newer one."
        case .topicAlreadyExists:
            return "The topic is already there; nothing to create."
        case .destroyed:
            return "The client was shut down; create a new one."
        default:
            return code.isRetriableByDefault ? "This is usually transient; retry." : "See the broker logs."
        }
    }
}
