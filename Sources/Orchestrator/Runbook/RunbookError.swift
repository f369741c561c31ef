import SwitchbackConfiguration

/// A runbook that cannot be loaded, started or answered, with what to do about it.
public struct RunbookError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The file is not a valid runbook (``RunbookError/location`` says where).
        public static let malformed = Code(rawValue: "malformed")
        public static let notFound = Code(rawValue: "not-found")
        public static let invalidParameter = Code(rawValue: "invalid-parameter")
        /// Another run is in progress on this agent.
        public static let busy = Code(rawValue: "busy")
        /// No run waits for that answer.
        public static let noQuestion = Code(rawValue: "no-question")
        /// The journal cannot be written or read.
        public static let journal = Code(rawValue: "journal")

        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// For ``Code/malformed``: the file, key path and line.
    public var location: ConfigurationError?
    public var file: String?

    public init(_ code: Code, _ message: String, file: String? = nil, location: ConfigurationError? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.location = location
    }

    /// A malformed-file error: "FILE: 'steps[2].timeout' (line 14): problem; fix".
    public static func malformed(_ file: String, _ error: ConfigurationError) -> RunbookError {
        RunbookError(.malformed, "\(file): \(error.description)", file: file, location: error)
    }

    public var description: String { message }
}
