import KafkaWire

extension StorageError {
    /// The Kafka error code a client receives for this storage failure.
    var kafkaCode: KafkaErrorCode {
        switch code {
        case .unknownTopicOrPartition: .unknownTopicOrPartition
        case .topicAlreadyExists: .topicAlreadyExists
        case .invalidTopicName: .invalidTopicException
        case .invalidPartitions: .invalidPartitions
        case .invalidConfig: .invalidConfig
        case .corruptRecord: .corruptMessage
        case .invalidRecord: .invalidRecord
        case .unsupportedCompressionType: .unsupportedCompressionType
        case .messageTooLarge: .messageTooLarge
        case .offsetOutOfRange: .offsetOutOfRange
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .io, .corruptMetadata: .kafkaStorageError
        }
    }
}
