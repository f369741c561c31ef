/// A failure of the agent runtime that stops it, with what to do about it.
public struct AgentError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
