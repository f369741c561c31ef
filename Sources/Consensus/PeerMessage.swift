import Sites

/// A message between agents (the peer API carries it as JSON over authenticated HTTP).
///
/// Everything in here comes from the network: the election validates each field before use
/// and never traps on one.
public struct PeerMessage: Hashable, Codable, Sendable {
    public var from: AgentID
    public var body: Body

    public init(from: AgentID, body: Body) {
        self.from = from
        self.body = body
    }

    public enum Body: Hashable, Codable, Sendable {
        case heartbeat(Heartbeat)
        case voteRequest(VoteRequest)
        case voteResponse(VoteResponse)
        case commitRequest(CommitRequest)
        case commitAck(CommitAck)
        case leaseRequest(LeaseRequest)
        case leaseAck(LeaseAck)
    }

    /// The epoch the message speaks for, for logs.
    public var epoch: Epoch {
        switch body {
        case .heartbeat(let m): m.currentEpoch
        case .voteRequest(let m): m.proposal.epoch
        case .voteResponse(let m): m.epoch
        case .commitRequest(let m): m.config.epoch
        case .commitAck(let m): m.epoch
        case .leaseRequest(let m): m.config.epoch
        case .leaseAck(let m): m.epoch
        }
    }
}

/// Sent every probe interval: what the sender sees and what it has decided.
public struct Heartbeat: Hashable, Codable, Sendable {
    public var currentEpoch: Epoch
    public var committed: SiteConfig
    /// A configuration the sender stored for a leader, not yet known to be committed; a
    /// majority of heartbeats showing the same one proves it committed.
    public var accepted: SiteConfig?
    /// Sites the sender sees subjectively down.
    public var downSites: [SiteID]
    /// Whether the sender currently serves as the active site under a valid lease.
    public var servingActive: Bool
    public var maintenance: MaintenanceMark
    public var acknowledgedEpoch: Epoch

    public init(
        currentEpoch: Epoch, committed: SiteConfig, accepted: SiteConfig?, downSites: [SiteID],
        servingActive: Bool, maintenance: MaintenanceMark, acknowledgedEpoch: Epoch
    ) {
        self.currentEpoch = currentEpoch
        self.committed = committed
        self.accepted = accepted
        self.downSites = downSites
        self.servingActive = servingActive
        self.maintenance = maintenance
        self.acknowledgedEpoch = acknowledgedEpoch
    }
}

/// Operator overrides of a forced failover's safety checks.
public struct SafetyOverride: Hashable, Codable, Sendable {
    /// Skip health checks: the target need not look healthy to the candidate or the voters.
    public var ignoreHealth: Bool
    /// Decide alone, without a vote or commit majority. Only for when no majority can be
    /// reached (two sites without a witness, one of them gone). The operator asserts that the
    /// other site is down and that no other operator does the same elsewhere.
    public var withoutMajority: Bool

    public init(ignoreHealth: Bool = false, withoutMajority: Bool = false) {
        self.ignoreHealth = ignoreHealth
        self.withoutMajority = withoutMajority
    }

    public static let none = SafetyOverride()
}

/// A candidate asks for a vote in `proposal.epoch`.
public struct VoteRequest: Hashable, Codable, Sendable {
    /// The configuration the candidate will commit if it wins; its epoch is the election's.
    public var proposal: SiteConfig
    /// The committed configuration the proposal replaces.
    public var base: SiteConfig
    public var override: SafetyOverride

    public init(proposal: SiteConfig, base: SiteConfig, override: SafetyOverride) {
        self.proposal = proposal
        self.base = base
        self.override = override
    }
}

/// A voter's answer. A grant reports how long the lease this voter last granted may still
/// run, so the winner can wait it out before committing.
///
/// It names the candidate it answers: a vote counts only for the candidate it names, so a
/// vote replayed or misdelivered to another candidate of the same epoch is worthless to it.
public struct VoteResponse: Hashable, Codable, Sendable {
    public var epoch: Epoch
    /// The candidate this answer is for.
    public var candidate: AgentID
    public var granted: Bool
    public var leaseRemaining: Duration
    public var voterEpoch: Epoch
    public var voterCommitted: SiteConfig
    public var reason: String

    public init(
        epoch: Epoch, candidate: AgentID, granted: Bool, leaseRemaining: Duration, voterEpoch: Epoch,
        voterCommitted: SiteConfig, reason: String
    ) {
        self.epoch = epoch
        self.candidate = candidate
        self.granted = granted
        self.leaseRemaining = leaseRemaining
        self.voterEpoch = voterEpoch
        self.voterCommitted = voterCommitted
        self.reason = reason
    }
}

/// The leader asks voters to store `config` durably.
public struct CommitRequest: Hashable, Codable, Sendable {
    public var config: SiteConfig
    public init(config: SiteConfig) { self.config = config }
}

/// A voter stored (or refused) a leader's configuration.
public struct CommitAck: Hashable, Codable, Sendable {
    public var epoch: Epoch
    public var accepted: Bool
    public var voterEpoch: Epoch

    public init(epoch: Epoch, accepted: Bool, voterEpoch: Epoch) {
        self.epoch = epoch
        self.accepted = accepted
        self.voterEpoch = voterEpoch
    }
}

/// Identifies one lease renewal round of one agent start (`incarnation` is random per start,
/// so a late acknowledgement from before a restart is never mistaken for a new one).
public struct LeaseRound: Hashable, Codable, Sendable {
    public var incarnation: UInt64
    public var sequence: UInt64

    public init(incarnation: UInt64, sequence: UInt64) {
        self.incarnation = incarnation
        self.sequence = sequence
    }
}

/// The active site's agent asks voters to extend its lease for `config` by `duration`.
///
/// The duration travels with the request and the grant because agents need not share one
/// lease setting (a rolling change from 4 s to 8 s has both at once): the holder serves only
/// within what a majority granted, and every voter remembers what it granted.
public struct LeaseRequest: Hashable, Codable, Sendable {
    public var config: SiteConfig
    public var round: LeaseRound
    /// The lease the holder asks for (its own `detection.lease`).
    public var duration: Duration

    public init(config: SiteConfig, round: LeaseRound, duration: Duration) {
        self.config = config
        self.round = round
        self.duration = duration
    }
}

/// A voter's answer to a lease renewal.
public struct LeaseAck: Hashable, Codable, Sendable {
    public var epoch: Epoch
    public var round: LeaseRound
    public var granted: Bool
    public var voterEpoch: Epoch
    /// The lease this voter promised, measured from when it received the request: the
    /// shorter of what was asked and its own `detection.lease` (zero when refused).
    public var duration: Duration

    public init(epoch: Epoch, round: LeaseRound, granted: Bool, voterEpoch: Epoch, duration: Duration) {
        self.epoch = epoch
        self.round = round
        self.granted = granted
        self.voterEpoch = voterEpoch
        self.duration = duration
    }
}
