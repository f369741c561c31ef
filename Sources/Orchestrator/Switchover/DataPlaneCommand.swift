import Consensus
import Sites
import SwitchbackConfiguration

/// One part of a planned switchover (or of any runbook) that only the agent of one site can
/// do, because the flow into that site, its holds and its sidecar answer live there.
///
/// The runbook runs at one agent (the one the operator called); every part that belongs to
/// another site's agent is sent there as this command, signed like every peer message
/// (`POST /v1/peer/dataplane`), and done by that agent's ``DataPlane`` (``DataPlane/perform(_:)``).
/// Codable as flat JSON so a peer of another build reads what it knows and refuses the rest.
public struct DataPlaneCommand: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Verb: String, Sendable, Hashable, Codable, CaseIterable {
        /// Set what this site's agent tells applications (`switching`, `serving`, `promoting`).
        case announce
        /// Report the lag of the flow `from`→`to` against the source's log ends read now.
        case flowLag = "flow-lag"
        /// Stop the flow `from`→`to` and hold it stopped for the epoch (drain first when asked).
        case stopFlow = "stop-flow"
        /// Stop the flow without draining and hold it stopped for the epoch.
        case pauseFlow = "pause-flow"
        /// Release the hold and start the flow again.
        case startFlow = "start-flow"
        /// Position every selected group at `to` from `from`'s live offsets through the stopped
        /// flow's map, and remember that the next promotion need not position them again.
        case translateGroups = "translate-groups"
        /// Report the flows running into this site.
        case flows
    }

    public var verb: Verb
    /// The epoch the run acts for; the agent refuses a command for an epoch older than the one
    /// it holds committed.
    public var epoch: UInt64
    public var from: String?
    public var to: String?
    /// `announce`: the state to announce.
    public var state: SidecarState?
    /// `stop-flow`: the longest drain, in milliseconds; `nil` stops without draining.
    public var drainMilliseconds: Int64?
    /// `translate-groups`: `live` or `checkpoints`.
    public var source: PositionSource?
    /// `translate-groups`: plan only.
    public var dryRun: Bool?
    /// `translate-groups` from checkpoints: the oldest checkpoint used, in milliseconds.
    public var maxAgeMilliseconds: Int64?
    /// Random per command, so two equal commands in one second (a lag poll) sign differently
    /// and the receiver's replay guard refuses only a real replay.
    public var nonce: UInt64

    public init(
        _ verb: Verb, epoch: Epoch, route: FlowRoute? = nil, state: SidecarState? = nil, drainWithin: Duration? = nil,
        source: PositionSource? = nil, dryRun: Bool? = nil, maxAge: Duration? = nil
    ) {
        self.verb = verb
        self.epoch = epoch.rawValue
        self.from = route?.from.rawValue
        self.to = route?.to.rawValue
        self.state = state
        self.drainMilliseconds = drainWithin.map(Self.milliseconds)
        self.source = source
        self.dryRun = dryRun
        self.maxAgeMilliseconds = maxAge.map(Self.milliseconds)
        self.nonce = UInt64.random(in: 0...UInt64.max)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// The flow the command is about.
    /// - Throws: ``StepActionError`` when `from` or `to` is missing or not a site name.
    public func route() throws(StepActionError) -> FlowRoute {
        guard let from, let fromSite = SiteID(rawValue: from) else { throw .parameter("from", "is missing or not a site name (\(from ?? "none"))") }
        guard let to, let toSite = SiteID(rawValue: to) else { throw .parameter("to", "is missing or not a site name (\(to ?? "none"))") }
        return FlowRoute(from: fromSite, to: toSite)
    }

    public var drainWithin: Duration? { drainMilliseconds.map { .milliseconds($0) } }
    public var maxAge: Duration? { maxAgeMilliseconds.map { .milliseconds($0) } }

    public var description: String {
        var parts = [verb.rawValue, "epoch \(epoch)"]
        if let from, let to { parts.append("\(from)→\(to)") }
        if let state { parts.append(state.rawValue) }
        return parts.joined(separator: " ")
    }
}

/// What a site's agent answers to a ``DataPlaneCommand``: a summary and outputs (like a step's
/// ``StepOutcome``), or the error it refused with.
public struct DataPlaneReply: Sendable, Hashable, Codable {
    public var summary: String
    public var outputs: [String: String]
    /// Set when the command failed: the ``StepActionError`` code, message and whether a retry may help.
    public var errorCode: String?
    public var retriable: Bool?

    public init(summary: String, outputs: [String: String] = [:]) {
        self.summary = summary
        self.outputs = outputs
    }

    public init(error: StepActionError) {
        summary = error.message
        outputs = [:]
        errorCode = error.code.rawValue
        retriable = error.retriable
    }

    /// The reply as the step's error, when it is one.
    public var error: StepActionError? {
        guard let errorCode else { return nil }
        return StepActionError(StepActionError.Code(rawValue: errorCode), summary, retriable: retriable ?? false)
    }
}
