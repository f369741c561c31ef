import NIOCore

/// A request or response body of one Kafka API, encodable in each version LocalKafka supports.
public protocol KafkaProtocolMessage: Sendable, Equatable {
    /// The API this message belongs to.
    static var apiKey: ApiKey { get }

    /// Reads the body as encoded in `version`.
    ///
    /// - Throws: `WireError` when the bytes are truncated or malformed for that version.
    init(from buffer: inout ByteBuffer, version: Int16) throws(WireError)

    /// Writes the body as encoded in `version`. Fields that do not exist in `version` are left
    /// out, and a `nil` in a version where the field is not nullable is written as empty.
    func encode(into buffer: inout ByteBuffer, version: Int16)
}
