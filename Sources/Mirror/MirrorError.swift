/// Why a mirror operation failed: a code to branch on, and a message that says what failed and
/// what to do about it.
///
/// Errors are values: the mirror never traps on bad input (configuration, record headers, map
/// files, internal-topic records); it returns or throws one of these instead.
public struct MirrorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is; extensible without breaking callers that switch on known codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A site, topic, group or partition identifier is not valid.
        public static let invalidIdentifier = Code(rawValue: "invalid-identifier")
        /// A selection regex does not compile.
        public static let invalidPattern = Code(rawValue: "invalid-pattern")
        /// A provenance header is present but cannot be parsed.
        public static let malformedHeader = Code(rawValue: "malformed-header")
        /// The last record of a target partition does not tell where to resume.
        public static let cannotResume = Code(rawValue: "cannot-resume")
        /// A delivery report or map update contradicts what the offset map already holds.
        public static let offsetMapConflict = Code(rawValue: "offset-map-conflict")
        /// Bytes of a stored offset map (file or internal-topic record) cannot be decoded.
        public static let malformedOffsetMap = Code(rawValue: "malformed-offset-map")
        /// Reading or writing the local offset-map file failed.
        public static let storage = Code(rawValue: "storage")
        /// A Kafka cluster refused or failed a request of the flow or the translator.
        public static let kafka = Code(rawValue: "kafka")
        /// Provisioning a target topic failed or found it unfit (fewer partitions than the source).
        public static let provisioning = Code(rawValue: "provisioning")

        public var description: String { rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, with the offending value, and what to do.
    public var message: String
    /// Whether trying the same thing again later may succeed (I/O), as opposed to bad input.
    public var isRetriable: Bool

    public init(_ code: Code, _ message: String, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
    }

    public var description: String { "\(code): \(message)" }
}
