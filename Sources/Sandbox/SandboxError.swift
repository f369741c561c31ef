/// Why the sandbox could not do something, in words that say what to check.
public struct SandboxError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
