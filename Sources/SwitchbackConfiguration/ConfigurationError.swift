/// A configuration file that cannot be used, naming the key, the bad value and the fix.
///
/// `keyPath` is written the way the file nests it (`detection.down_after`,
/// `sites.dc-a.kafka.sasl.password`, `mirror.topics.include[1]`), so an operator can find it
/// without reading code.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem, for tests and tools that react to it.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The file cannot be read or is not YAML.
        public static let unreadable = Code(rawValue: "unreadable")
        /// A key nobody reads: usually a typo.
        public static let unknownKey = Code(rawValue: "unknown-key")
        /// A required key is absent.
        public static let missingKey = Code(rawValue: "missing-key")
        /// A value of the wrong shape (a list where a mapping belongs, a word where a number does).
        public static let wrongType = Code(rawValue: "wrong-type")
        /// A value of the right shape that is not allowed (an unknown site, a negative duration).
        public static let invalidValue = Code(rawValue: "invalid-value")
        /// A secret whose environment variable or file cannot be had.
        public static let unresolvedSecret = Code(rawValue: "unresolved-secret")

        public var description: String { rawValue }
    }

    public var code: Code
    /// Where in the file: `detection.down_after`; empty for the file as a whole.
    public var keyPath: String
    /// What is wrong, including the bad value where it is not a secret.
    public var problem: String
    /// What to write instead.
    public var fix: String
    /// The 1-based line in the file, when known.
    public var line: Int?

    public init(_ code: Code, keyPath: String, problem: String, fix: String, line: Int? = nil) {
        self.code = code
        self.keyPath = keyPath
        self.problem = problem
        self.fix = fix
        self.line = line
    }

    public var description: String {
        let location = line.map { " (line \($0))" } ?? ""
        let key = keyPath.isEmpty ? "configuration" : "'\(keyPath)'"
        return "\(key)\(location): \(problem); \(fix)"
    }
}
