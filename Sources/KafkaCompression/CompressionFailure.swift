import KafkaWire

/// A codec library could not compress (in practice: it could not allocate memory).
public struct CompressionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var codec: CompressionCodec
    public var message: String

    public init(codec: CompressionCodec, message: String) {
        self.codec = codec
        self.message = message
    }

    public var description: String { "\(codec) compression failed: \(message); the records were not written" }
}
