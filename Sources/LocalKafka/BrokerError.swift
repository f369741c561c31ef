/// A failure of the broker itself (not of one client request): binding, storage, start-up.
public struct BrokerError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        case network
        case storage
        case configuration
    }

    public let code: Code
    /// What failed and what to do about it.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
