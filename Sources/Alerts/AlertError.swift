/// Why alerts could not be set up or stored, with what to do about it.
public struct AlertError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
