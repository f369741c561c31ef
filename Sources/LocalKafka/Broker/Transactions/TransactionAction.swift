import KafkaWire

/// Markers a transaction's outcome needs: one control batch per partition.
public struct TransactionMarkers: Sendable, Equatable {
    /// The identity the markers carry; a bumped epoch here fences the previous instance.
    public var producer: ProducerIdentity
    public var commit: Bool
    public var partitions: [TransactionPartition]
}

/// What the broker must do after a coordinator event, in order.
public enum TransactionAction: Sendable, Equatable {
    /// Write the coordinator's state to disk.
    case persist
    /// Write the markers, then report `markersWritten` for the transactional id.
    case writeMarkers(TransactionalID, TransactionMarkers)
    /// Make offsets committed by a transaction visible to the group.
    case commitOffsets(group: String, offsets: [CommittedOffset])
}

/// Why the coordinator refused a request: the Kafka error code for the client and a message
/// that says what to do.
public struct TransactionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: KafkaErrorCode
    public var message: String
    public init(_ code: KafkaErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}

/// The outcome of a coordinator event: the answer for the client and the actions to carry out
/// (also when the answer is a refusal, e.g. markers still owed).
public struct TransactionStep<Value: Sendable>: Sendable {
    public var result: Result<Value, TransactionRefusal>
    public var actions: [TransactionAction]

    static func refused(_ code: KafkaErrorCode, _ message: String) -> TransactionStep {
        TransactionStep(result: .failure(TransactionRefusal(code, message)), actions: [])
    }

    /// The error code to answer with: 0 on success.
    public var errorCode: Int16 {
        switch result {
        case .success: 0
        case .failure(let refusal): refusal.code.rawValue
        }
    }
}
