/// An error from Kafka or from librdkafka, with what failed, what to do about it, and where.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// librdkafka's error code (`rd_kafka_resp_err_t`): negative values are raised by the client
    /// itself, positive ones come from the broker (the Kafka protocol error codes).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public var description: String { RDErrorCode.name(of: rawValue) }

        // Raised by the client.
        public static let badMessage = Code(rawValue: -199)
        public static let destroyed = Code(rawValue: -197)
        public static let failed = Code(rawValue: -196)
        public static let transport = Code(rawValue: -195)
        public static let messageTimedOut = Code(rawValue: -192)
        public static let partitionEOF = Code(rawValue: -191)
        public static let unknownPartition = Code(rawValue: -190)
        public static let unknownTopic = Code(rawValue: -188)
        public static let allBrokersDown = Code(rawValue: -187)
        public static let invalidArgument = Code(rawValue: -186)
        public static let timedOut = Code(rawValue: -185)
        public static let queueFull = Code(rawValue: -184)
        public static let unknownGroup = Code(rawValue: -179)
        public static let notImplemented = Code(rawValue: -170)
        public static let noOffset = Code(rawValue: -168)
        public static let unsupportedFeature = Code(rawValue: -165)
        public static let fatal = Code(rawValue: -150)
        public static let inconsistent = Code(rawValue: -149)
        /// The consumer's position is outside the log and `offsetReset` is `.error`.
        public static let autoOffsetReset = Code(rawValue: -140)
        // Returned by brokers.
        public static let offsetOutOfRange = Code(rawValue: 1)
        public static let unknownTopicOrPartition = Code(rawValue: 3)
        public static let leaderNotAvailable = Code(rawValue: 5)
        public static let notLeaderForPartition = Code(rawValue: 6)
        public static let requestTimedOut = Code(rawValue: 7)
        public static let coordinatorNotAvailable = Code(rawValue: 15)
        public static let notCoordinator = Code(rawValue: 16)
        public static let notEnoughReplicas = Code(rawValue: 19)
        public static let rebalanceInProgress = Code(rawValue: 27)
        public static let topicAuthorizationFailed = Code(rawValue: 29)
        public static let groupAuthorizationFailed = Code(rawValue: 30)
        public static let unsupportedVersion = Code(rawValue: 35)
        public static let topicAlreadyExists = Code(rawValue: 36)
        public static let invalidPartitions = Code(rawValue: 37)
        public static let invalidReplicationFactor = Code(rawValue: 38)
        public static let invalidConfig = Code(rawValue: 40)
        public static let policyViolation = Code(rawValue: 44)
        public static let outOfOrderSequence = Code(rawValue: 45)
        public static let duplicateSequence = Code(rawValue: 46)
        public static let invalidProducerEpoch = Code(rawValue: 47)
        public static let clusterAuthorizationFailed = Code(rawValue: 31)
        public static let securityDisabled = Code(rawValue: 54)
        public static let nonEmptyGroup = Code(rawValue: 68)
        public static let groupIDNotFound = Code(rawValue: 69)
        public static let producerFenced = Code(rawValue: 90)
    }

    /// What went wrong.
    public var code: Code
    /// What failed and what to do about it.
    public var message: String
    /// Whether doing the same thing again may succeed (the condition is transient).
    public var isRetriable: Bool
    /// Whether the client that raised it can no longer be used and must be recreated.
    public var isFatal: Bool
    /// For a transactional producer: the current transaction cannot be committed any more;
    /// abort it (``KafkaProducer/abortTransaction(timeout:)``) and start a new one.
    public var transactionRequiresAbort: Bool = false
    /// The topic the error concerns, when known.
    public var topic: TopicName?
    /// The partition the error concerns, when known.
    public var partition: Partition?

    public init(
        code: Code, message: String, isRetriable: Bool? = nil, isFatal: Bool = false,
        topic: TopicName? = nil, partition: Partition? = nil
    ) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable ?? code.isRetriableByDefault
        self.isFatal = isFatal
        self.topic = topic
        self.partition = partition
    }

    public var description: String {
        var text = "KafkaError(\(code))"
        if let topic {
            text += " on \(topic)"
            if let partition { text += "[\(partition)]" }
        }
        text += ": \(message)"
        if isFatal {
            text += " [fatal]"
        } else if transactionRequiresAbort {
            text += " [abort the transaction]"
        } else if isRetriable {
            text += " [retriable]"
        }
        return text
    }

    /// The same error, tagged with the topic and partition it concerns.
    public func on(_ topic: TopicName?, _ partition: Partition? = nil) -> KafkaError {
        var copy = self
        copy.topic = topic ?? copy.topic
        copy.partition = partition ?? copy.partition
        return copy
    }

    /// A configuration property librdkafka refused. The value is redacted if it is a secret.
    public static func invalidConfiguration(key: String, value: String, reason: String) -> KafkaError {
        let shown = KafkaConfigurationRedaction.isSecret(key) ? KafkaConfigurationRedaction.mask : value
        return KafkaError(
            code: .invalidArgument,
            message: "configuration property \(key)=\(shown) was refused: \(reason). "
                + "Fix or remove this property (see librdkafka CONFIGURATION.md).",
            isRetriable: false)
    }

    /// The client was shut down before the operation completed.
    static func shutDown(_ what: String) -> KafkaError {
        KafkaError(
            code: .destroyed,
            message: "\(what) failed because the client was shut down; create a new client to continue.",
            isRetriable: false)
    }
}

extension KafkaError.Code {
    /// Codes for conditions that usually clear up by themselves (leader moves, brokers coming
    /// back, full queues), following the Kafka protocol's retriable set.
    var isRetriableByDefault: Bool {
        Self.retriable.contains(rawValue)
    }

    private static let retriable: Set<Int32> = [
        -195,  // _TRANSPORT
        -192,  // _MSG_TIMED_OUT
        -187,  // _ALL_BROKERS_DOWN
        -185,  // _TIMED_OUT
        -184,  // _QUEUE_FULL
        -193,  // _RESOLVE
        -180,  // _WAIT_COORD
        -178,  // _IN_PROGRESS
        -177,  // _PREV_IN_PROGRESS
        -166,  // _TIMED_OUT_QUEUE
        -153,  // _RETRY
        // Broker codes Kafka marks retriable: unknown topic/partition (metadata lag), leader
        // not available, not leader, request timed out, network exception, coordinator
        // loading / not available / not coordinator, not enough replicas (before and after
        // append), rebalance in progress, storage error, fenced/unknown leader epoch,
        // offset not available, preferred leader not available.
        3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 27, 56, 74, 75, 78, 80,
    ]
}
