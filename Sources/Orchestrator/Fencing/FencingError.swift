/// Why a fencing, state-record or reconcile action failed: a code to branch on, and a message
/// that says what failed and what to do about it.
public struct FencingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is; extensible without breaking callers that switch on known codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A newer epoch has already acted on this cluster (see ``FencingError/stale``).
        public static let staleEpoch = Code(rawValue: "stale-epoch")
        /// The cluster refused or failed a request; usually worth retrying.
        public static let kafka = Code(rawValue: "kafka")
        /// A record of `__switchback_state` cannot be decoded, or contradicts another.
        public static let malformedState = Code(rawValue: "malformed-state")
        /// Reconcile needs the returned site fenced first: the fence fixes where its log ends.
        public static let notFenced = Code(rawValue: "not-fenced")
        /// A record cannot be copied where it must go (no target topic, or a shorter one).
        public static let cannotCopy = Code(rawValue: "cannot-copy")

        /// The task was cancelled (a step's timeout, a stopped run); what was done stays done.
        public static let cancelled = Code(rawValue: "cancelled")

        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// Whether trying the same thing again later may succeed (I/O), as opposed to a refusal.
    public var isRetriable: Bool
    /// The refusal, when ``code`` is ``Code/staleEpoch``.
    public var stale: StaleEpoch?

    public init(_ code: Code, _ message: String, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
    }

    /// The refusal of an action for an epoch older than one already recorded.
    public init(_ stale: StaleEpoch) {
        self.init(.staleEpoch, stale.description)
        self.stale = stale
    }

    static func kafka(_ what: String, _ error: any Error) -> FencingError {
        FencingError(.kafka, "\(what) failed: \(error)", isRetriable: true)
    }

    static func cancelled(_ what: String) -> FencingError {
        FencingError(.cancelled, "\(what) was cancelled", isRetriable: true)
    }

    public var description: String { "\(code): \(message)" }
}
