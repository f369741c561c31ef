import Sites

/// Something that happened to an agent; the runtime feeds these to `Election.handle`.
public enum ElectionEvent: Hashable, Sendable {
    /// Time passed. Call at least every probe interval (more often is fine: heartbeats and
    /// lease renewals are paced by the policy, not by the tick rate).
    case tick
    /// The outcome of one probe of `site`'s cluster (metadata + canary round trip). Every
    /// agent probes every site's cluster, its own and the others'; a witness has no cluster of
    /// its own and probes them all. `observedAt` is when the probe started (on this agent's
    /// clock): a good result proves health no later than that, however late it is handled.
    case probeResult(site: SiteID, healthy: Bool, observedAt: MonotonicInstant)
    /// A peer message arrived (already authenticated by the peer API).
    case received(PeerMessage)
    /// Operator: pause (`true`) or resume (`false`) automatic failover and failback.
    case setMaintenance(Bool)
    /// Operator: lift the block period after the latest automatic change.
    case acknowledge
    /// Operator: planned move of the active site to `site` (both sites healthy).
    case switchover(to: SiteID)
    /// Operator: forced failover to `site`, optionally overriding safety checks.
    case failover(to: SiteID, override: SafetyOverride)
}

/// Something the runtime must do, in the order returned.
///
/// - Important: Execute the actions of one `handle` call in order. A `persist` must be durable
///   (written and fsynced) before any action after it is performed — in particular before any
///   `send` or `broadcast` that follows it, because those replies promise what was persisted
///   (a vote, an accepted configuration). If persisting fails, drop the remaining actions of
///   that call and restart the agent from its last durable state.
public enum ElectionAction: Hashable, Sendable {
    /// Write this state durably (`FileElectionStore.save`) before doing anything that follows.
    case persist(ElectionState)
    case send(PeerMessage, to: AgentID)
    /// Send to every other voter.
    case broadcast(PeerMessage)
    /// This site now holds a valid lease for `config`: answer "active" to sidecars.
    case startServingActive(SiteConfig)
    /// Stop answering "active" at once (lease lost, superseded, or handed over).
    case stopServingActive(reason: String)
    /// A new committed configuration makes this agent's site active: run the promotion
    /// (translate offsets, reverse the mirror). The previous active site's lease has expired.
    case promote(SiteConfig)
    /// The committed configuration changed (every agent gets this): update the sidecar
    /// answer's epoch and the mirror direction.
    case adoptConfig(SiteConfig)
    /// A decision or transition for the audit log and alerts.
    case audit(AuditRecord)
}

/// One line of the audit log: every vote, commit, lease change and automated decision.
public struct AuditRecord: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Codable, Sendable {
        case warning, failureDetected, candidacy, voteGranted, voteRefused, elected, commitAccepted,
            commitRefused, committed, leaseAcquired, leaseLost, messageRefused, operatorAction,
            blocked, electionAbandoned
    }

    public var kind: Kind
    public var epoch: Epoch
    public var message: String

    public init(kind: Kind, epoch: Epoch, message: String) {
        self.kind = kind
        self.epoch = epoch
        self.message = message
    }

    public var description: String { "[\(kind.rawValue) \(epoch)] \(message)" }
}
