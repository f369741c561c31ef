/// Why bytes could not be decoded as Kafka protocol or record data.
///
/// Every byte from the network is hostile: decoders throw one of these instead of trapping, and
/// the broker closes the offending connection with the message in its log.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside `field`.
    case truncated(field: String)
    /// `field` holds a value that cannot be right (negative length, bad magic, bad CRC…).
    case malformed(field: String, reason: String)
    /// The request names an API key or version this implementation does not speak.
    case unsupported(apiKey: Int16, version: Int16)
    /// A frame or field is larger than the configured limit.
    case tooLarge(field: String, size: Int, limit: Int)

    public var description: String {
        switch self {
        case .truncated(let field):
            "input ended inside \(field)"
        case .malformed(let field, let reason):
            "malformed \(field): \(reason)"
        case .unsupported(let apiKey, let version):
            "unsupported API key \(apiKey) version \(version)"
        case .tooLarge(let field, let size, let limit):
            "\(field) of \(size) bytes exceeds the limit of \(limit) bytes"
        }
    }
}
