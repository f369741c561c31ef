/// One answer (or failure) from an agent's sidecar endpoint, timed by the recorder's clock as
/// offsets from the start of the run.
struct SidecarPoll: Hashable, Sendable {
    var agent: String
    /// When the request was sent.
    var sent: Duration
    /// When the answer (or the failure) arrived.
    var received: Duration
    /// `nil` when the poll failed (refused, timed out, malformed answer).
    var epoch: UInt64?
    var servingActive: Bool

    static func failed(_ agent: String, sent: Duration, received: Duration) -> SidecarPoll {
        SidecarPoll(agent: agent, sent: sent, received: received, epoch: nil, servingActive: false)
    }
}

/// A stretch of time during which one agent may have told its applications "serve active".
struct ActiveClaim: Hashable, Sendable, CustomStringConvertible {
    var agent: String
    var epoch: UInt64
    /// When the first poll that answered "active" was sent.
    var start: Duration
    /// When the next poll that answered "not active" (or failed) came back; if none followed,
    /// when the last "active" answer came back.
    var end: Duration

    func overlaps(_ other: ActiveClaim) -> Bool { start < other.end && other.start < end }

    var description: String { "\(agent) epoch \(epoch) active \(start)…\(end)" }
}

/// A breach of the safety properties the randomized partition test checks.
enum SafetyViolation: Hashable, Sendable, CustomStringConvertible {
    /// Two agents claimed to serve active at overlapping times.
    case overlappingClaims(ActiveClaim, ActiveClaim)
    /// Two agents claimed to serve active in the same epoch (at any times).
    case sameEpochClaims(ActiveClaim, ActiveClaim)
    /// An agent reported an epoch older than one it had reported before.
    case epochWentBack(agent: String, from: UInt64, to: UInt64, at: Duration)

    var description: String {
        switch self {
        case .overlappingClaims(let first, let second): "split brain: \(first) overlaps \(second)"
        case .sameEpochClaims(let first, let second): "split brain: two sites active in one epoch: \(first) and \(second)"
        case .epochWentBack(let agent, let from, let to, let at): "\(agent) reported epoch \(to) at \(at) after epoch \(from)"
        }
    }
}

/// Turns recorded sidecar polls into claims of "I serve active" and checks them: no two agents
/// active at overlapping times or in the same epoch, and every agent's epochs only move forward.
enum ActiveClaimChecker {
    /// The claims in `polls` (any order, several agents), sorted by start. A claim runs from the
    /// first poll that answered active to the next poll that did not; a change of epoch while
    /// active closes one claim and opens the next.
    static func claims(from polls: [SidecarPoll]) -> [ActiveClaim] {
        var claims: [ActiveClaim] = []
        for (_, agentPolls) in Dictionary(grouping: polls, by: \.agent) {
            var open: ActiveClaim?
            for poll in agentPolls.sorted(by: { $0.sent < $1.sent }) {
                if poll.servingActive, let epoch = poll.epoch {
                    if var current = open, current.epoch == epoch {
                        current.end = poll.received
                        open = current
                    } else {
                        if var current = open {
                            current.end = poll.received
                            claims.append(current)
                        }
                        open = ActiveClaim(agent: poll.agent, epoch: epoch, start: poll.sent, end: poll.received)
                    }
                } else if var current = open {
                    current.end = poll.received
                    claims.append(current)
                    open = nil
                }
            }
            if let open { claims.append(open) }
        }
        return claims.sorted { ($0.start, $0.agent) < ($1.start, $1.agent) }
    }

    /// Every violation in `claims` between different agents.
    static func violations(in claims: [ActiveClaim]) -> [SafetyViolation] {
        var found: [SafetyViolation] = []
        for (index, first) in claims.enumerated() {
            for second in claims[(index + 1)...] where second.agent != first.agent {
                if first.epoch == second.epoch {
                    found.append(.sameEpochClaims(first, second))
                } else if first.overlaps(second) {
                    found.append(.overlappingClaims(first, second))
                }
            }
        }
        return found
    }

    /// Every point where an agent reported an older epoch than before, in poll order.
    static func epochRegressions(in polls: [SidecarPoll]) -> [SafetyViolation] {
        var found: [SafetyViolation] = []
        for (agent, agentPolls) in Dictionary(grouping: polls, by: \.agent) {
            var newest: UInt64?
            for poll in agentPolls.sorted(by: { $0.sent < $1.sent }) {
                guard let epoch = poll.epoch else { continue }
                if let seen = newest, epoch < seen {
                    found.append(.epochWentBack(agent: agent, from: seen, to: epoch, at: poll.sent))
                } else {
                    newest = epoch
                }
            }
        }
        return found
    }

    /// How often the serving agent changed between consecutive claims (failovers and failbacks).
    static func handovers(in claims: [ActiveClaim]) -> Int {
        zip(claims, claims.dropFirst()).filter { $0.agent != $1.agent }.count
    }
}
