import Sites

/// An election this agent runs as candidate, then as leader of its epoch.
struct Candidacy: Hashable, Sendable {
    enum Phase: Hashable, Sendable {
        /// Asking for votes.
        case collectingVotes
        /// Won; waiting until every lease the voters granted before voting has run out.
        case waitingOutLease(until: MonotonicInstant)
        /// Asking voters to store the proposal.
        case committing
    }

    var proposal: SiteConfig
    var base: SiteConfig
    var override: SafetyOverride
    var required: Int
    var phase: Phase = .collectingVotes
    var phaseStartedAt: MonotonicInstant
    /// Each voter that granted, with the instant until which a lease it granted could run.
    var votes: [AgentID: MonotonicInstant]
    var acks: Set<AgentID> = []

    var epoch: Epoch { proposal.epoch }
}

/// An automatic candidacy decided but not yet started (the random back-off).
struct PlannedCandidacy: Hashable, Sendable {
    var target: SiteID
    var cause: ConfigCause
    var startAt: MonotonicInstant
}
