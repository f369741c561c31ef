/// Leader stickiness: a voter that granted its vote holds back while that election finishes.
///
/// Why: a leader elected in epoch E must wait out the old active site's lease before it may
/// commit. Without this rule the other voters, still seeing the active site down, stood as
/// candidates themselves during that wait; each new candidacy took a newer epoch, voters that
/// voted in it refused the waiting leader's commit, and elections churned (e1…e15 in one
/// failover) until the old lease happened to be over between two candidacies.
///
/// The rule (as Raft's leader stickiness / pre-vote):
/// - A voter that grants a vote in E to another candidate, or stores that leader's commit
///   request, supports it until the lease it reported could have run out plus one election
///   timeout (the time the leader needs to finish). Meanwhile it does not stand as candidate
///   (automatic candidacies only; an operator command still overrides) and refuses votes in
///   newer epochs to any other candidate's automatic change or reaffirmation (an operator's
///   switchover or failover is a deliberate decision and is not held back).
/// - A voter that refuses an automatic failover only because it does not see the active site
///   down yet (its probes are behind the candidate's) supports it the same way: moments later
///   it would stand for the same change in a newer epoch, which would only compete with this one.
/// - A candidate that has won its epoch holds back the same way for its own election while it
///   waits out the lease and commits.
/// - The support ends early when the supported configuration (or a newer one) is committed,
///   or when this voter itself sees the proposal's target site down: the election it supports
///   is then dead, and holding back would only delay the next one.
///
/// Safety: the rule only adds refusals and delays candidacies; it never grants a vote or
/// accepts a commit the voter would otherwise refuse, so at most one leader per epoch and the
/// lease wait hold as before. Liveness: every support ends by a bounded deadline that is set
/// only when a candidate asks (a grant) or a leader commits, and a leader's own hold ends with
/// its candidacy (bounded by the lease wait and the election timeout, gone on a restart).
/// If the leader of E dies, no request renews the supports, they expire, and the next
/// candidate after a fresh random back-off wins as before.
struct Support: Hashable, Sendable {
    var candidate: AgentID
    var proposal: SiteConfig
    var until: MonotonicInstant
}

extension Election {
    /// Starts or extends support for `peer`'s election of `proposal`.
    mutating func support(_ proposal: SiteConfig, of peer: AgentID, until: MonotonicInstant) {
        if let current = supporting, current.candidate == peer, current.proposal.epoch <= proposal.epoch {
            supporting = Support(candidate: peer, proposal: proposal, until: max(until, current.until))
        } else {
            supporting = Support(candidate: peer, proposal: proposal, until: until)
        }
    }

    /// The election this agent holds back for at `now` (its own, once won, or the one it
    /// voted in), or `nil`.
    func heldBackFor(now: MonotonicInstant) -> Support? {
        if let running = candidacy, running.phase != .collectingVotes {
            return Support(candidate: me, proposal: running.proposal, until: now)
        }
        guard let supporting, now < supporting.until, supporting.proposal.epoch > state.committed.epoch,
            !detector.isDown(supporting.proposal.activeSite, now: now)
        else { return nil }
        return supporting
    }
}
