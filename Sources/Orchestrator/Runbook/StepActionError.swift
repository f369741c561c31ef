/// A step that failed, as a value: what failed, what to do, and whether retrying can help.
public struct StepActionError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A parameter is missing or has the wrong form (not retriable: the runbook is wrong).
        public static let invalidParameter = Code(rawValue: "invalid-parameter")
        /// A precondition does not hold (retriable: it may hold later).
        public static let preconditionFailed = Code(rawValue: "precondition-failed")
        /// The live system refused or could not be reached.
        public static let failed = Code(rawValue: "failed")
        /// The step's timeout passed.
        public static let timedOut = Code(rawValue: "timed-out")
        /// The action acts for an epoch older than one already recorded (never retriable).
        public static let staleEpoch = Code(rawValue: "stale-epoch")
        /// An `assert` condition was false.
        public static let assertionFailed = Code(rawValue: "assertion-failed")

        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    public var retriable: Bool

    public init(_ code: Code, _ message: String, retriable: Bool) {
        self.code = code
        self.message = message
        self.retriable = retriable
    }

    public var description: String { "\(code): \(message)" }

    /// A parameter error naming the key, the value and the fix.
    public static func parameter(_ key: String, _ problem: String) -> StepActionError {
        StepActionError(.invalidParameter, "parameter '\(key)' \(problem)", retriable: false)
    }
}
