/// The active site's lease as its holder sees it.
///
/// The holder measures its lease from when it *sent* a renewal round, the voters from when
/// they *received* it. A message arrives after it was sent, so the holder's lease always ends
/// first; `leaseSafetyMargin` shortens it further to absorb clock rate differences. That is
/// why the holder can stop serving before any voter could consider the lease over.
///
/// Each voter grants its own duration (`LeaseAck.duration`), so a round extends the lease only
/// by the longest duration that a majority granted at least: every voter of that majority
/// holds the lease for at least that long, and any later vote majority shares one of them.
struct HolderLease: Hashable, Sendable {
    struct Round: Hashable, Sendable {
        var epoch: Epoch
        var sentAt: MonotonicInstant
        /// Each voter that granted, with the duration it granted.
        var grants: [AgentID: Duration]
    }

    private(set) var epoch: Epoch?
    private(set) var validUntil: MonotonicInstant?
    private var rounds: [LeaseRound: Round] = [:]

    /// Forgets the lease (new epoch, or the holder is no longer active).
    mutating func reset() {
        epoch = nil
        validUntil = nil
        rounds = [:]
    }

    func isValid(epoch: Epoch, now: MonotonicInstant) -> Bool {
        guard self.epoch == epoch, let validUntil else { return false }
        return now < validUntil
    }

    /// Starts a round; the holder grants itself `ownGrant`.
    mutating func begin(_ round: LeaseRound, epoch: Epoch, sentAt: MonotonicInstant, holder: AgentID, ownGrant: Duration) {
        if self.epoch != epoch {
            reset()
            self.epoch = epoch
        }
        rounds[round] = Round(epoch: epoch, sentAt: sentAt, grants: [holder: ownGrant])
    }

    /// Counts a grant of `duration`; returns `true` when it extended the lease.
    mutating func acknowledge(
        _ round: LeaseRound, by voter: AgentID, duration: Duration, majority: Int, policy: ElectionPolicy
    ) -> Bool {
        guard var pending = rounds[round], pending.epoch == epoch, majority > 0 else { return false }
        pending.grants[voter] = min(max(duration, .zero), policy.leaseDuration)
        rounds[round] = pending
        guard pending.grants.count >= majority else { return false }
        // The majority-th longest grant: a majority granted at least this much.
        let granted = pending.grants.values.sorted(by: >)[majority - 1]
        guard granted > policy.leaseSafetyMargin else { return false }
        let until = pending.sentAt + granted - policy.leaseSafetyMargin
        guard validUntil.map({ until > $0 }) ?? true else { return false }
        validUntil = until
        return true
    }

    /// Drops rounds too old to extend anything.
    mutating func prune(now: MonotonicInstant, leaseDuration: Duration) {
        rounds = rounds.filter { now - $0.value.sentAt < leaseDuration }
    }
}
