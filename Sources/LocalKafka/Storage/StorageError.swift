/// Why a storage operation failed: a code the request handlers map to a Kafka error code, and a
/// message that says what failed and what to do about it.
public struct StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: Equatable, Sendable {
        /// The topic or partition does not exist (Kafka UNKNOWN_TOPIC_OR_PARTITION).
        case unknownTopicOrPartition
        /// A topic with that name exists already (TOPIC_ALREADY_EXISTS).
        case topicAlreadyExists
        /// The topic name breaks Kafka's naming rules (INVALID_TOPIC_EXCEPTION).
        case invalidTopicName
        /// A partition count that is not positive or does not grow (INVALID_PARTITIONS).
        case invalidPartitions
        /// A topic config key that is unknown or a value that is invalid (INVALID_CONFIG).
        case invalidConfig(key: String, value: String?, reason: String)
        /// Bytes that are not a valid record batch, or fail their CRC (CORRUPT_MESSAGE).
        case corruptRecord
        /// A batch whose fields contradict each other or the broker's rules (INVALID_RECORD).
        case invalidRecord
        /// A compression codec id Kafka does not define (UNSUPPORTED_COMPRESSION_TYPE).
        case unsupportedCompressionType
        /// A batch larger than the topic's `max.message.bytes` (MESSAGE_TOO_LARGE).
        case messageTooLarge
        /// An offset outside `logStartOffset...logEndOffset` (OFFSET_OUT_OF_RANGE).
        case offsetOutOfRange
        /// An idempotent producer skipped sequence numbers (OUT_OF_ORDER_SEQUENCE_NUMBER).
        case outOfOrderSequence
        /// An idempotent producer used an epoch older than the latest seen (INVALID_PRODUCER_EPOCH).
        case invalidProducerEpoch
        /// A file could not be read or written; `errno` from the failing system call.
        case io(path: String, errno: Int32)
        /// A metadata file exists but cannot be understood.
        case corruptMetadata(path: String)
    }

    public let code: Code
    /// What failed and what to do about it, for logs and error messages sent to clients.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func unknownTopic(_ name: String) -> StorageError {
        StorageError(.unknownTopicOrPartition, "topic '\(name)' does not exist; create it first or enable auto-creation")
    }

    static func io(_ path: String, _ errno: Int32, _ action: String) -> StorageError {
        StorageError(
            .io(path: path, errno: errno),
            "could not \(action) \(path): \(String(cString: strerror(errno))) (errno \(errno)); check the data directory's permissions and free space"
        )
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
