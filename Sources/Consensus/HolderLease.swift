/// The active site's lease as its holder sees it.
///
/// The holder measures its lease from when it *sent* a renewal round, the voters from when
/// they *received* it. A message arrives after it was sent, so the holder's lease always ends
/// first; `leaseSafetyMargin` shortens it further to absorb clock rate differences. That is
/// why the holder can stop serving before any voter could consider the lease over.
struct HolderLease: Hashable, Sendable {
    struct Round: Hashable, Sendable {
        var epoch: Epoch
        var sentAt: MonotonicInstant
        var acks: Set<AgentID>
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

    mutating func begin(_ round: LeaseRound, epoch: Epoch, sentAt: MonotonicInstant, holder: AgentID) {
        if self.epoch != epoch {
            reset()
            self.epoch = epoch
        }
        rounds[round] = Round(epoch: epoch, sentAt: sentAt, acks: [holder])
    }

    /// Counts an acknowledgement; returns `true` when it extended the lease.
    mutating func acknowledge(
        _ round: LeaseRound, by voter: AgentID, majority: Int, policy: ElectionPolicy
    ) -> Bool {
        guard var pending = rounds[round], pending.epoch == epoch else { return false }
        pending.acks.insert(voter)
        rounds[round] = pending
        guard pending.acks.count >= majority else { return false }
        let until = pending.sentAt + policy.leaseDuration - policy.leaseSafetyMargin
        guard validUntil.map({ until > $0 }) ?? true else { return false }
        validUntil = until
        return true
    }

    /// Drops rounds too old to extend anything.
    mutating func prune(now: MonotonicInstant, leaseDuration: Duration) {
        rounds = rounds.filter { now - $0.value.sentAt < leaseDuration }
    }
}
