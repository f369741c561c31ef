/// A voter that starts without its durable state (the file was lost or deleted, or the
/// operator starts it with `--rejoin`).
///
/// Why: it may have voted in an epoch it no longer remembers (voting again there could give
/// that epoch two leaders) and granted leases it no longer remembers (a new leader waits out
/// what voters report, and this one would report nothing). So, until it has caught up, it
/// refuses every vote and lease grant and stands for nothing:
/// 1. it learns the current epoch from a majority: heartbeats from enough peers that, with
///    itself, they are a majority; it moves to the newest epoch they report, and since it only
///    votes in epochs newer than its own, never votes again in one it may have voted in
///    (every epoch it could have voted in was reached by its candidate, and a majority's
///    heartbeats include a voter of every majority that moved on since);
/// 2. it then waits one lease (the longest it may have granted) plus one election timeout,
///    so every lease it granted before is over and every election it took part in has
///    committed or been given up by its candidate.
/// Commits are still accepted: storing a leader's configuration is safe for a voter that
/// does not vote, and a leader may need this copy for its majority.
struct Rejoin: Hashable, Sendable {
    /// The newest epoch each peer reported while rejoining.
    var reported: [AgentID: Epoch] = [:]
    /// The newest epoch adopted while rejoining (committed configurations count too).
    var newest: Epoch = .initial
    /// When a majority had been heard, and so the wait started.
    var caughtUpAt: MonotonicInstant?

    mutating func heard(_ epoch: Epoch, from peer: AgentID) {
        reported[peer] = max(reported[peer] ?? .initial, epoch)
        note(epoch)
    }

    mutating func note(_ epoch: Epoch) { newest = max(newest, epoch) }
}

extension Election {
    /// How long a rejoining voter waits after catching up (see `Rejoin`).
    var rejoinWait: Duration {
        min(max(policy.leaseDuration, state.longestLeaseGranted ?? .zero), ElectionPolicy.longestLease) + policy.electionTimeout
    }

    /// Whether this agent currently refuses votes and lease grants because it is rejoining.
    public var isRejoining: Bool { rejoin != nil }

    /// Moves a rejoin on: majority heard → epoch learned, wait started; wait over → normal voter.
    mutating func progressRejoin(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard var rejoining = rejoin else { return }
        if rejoining.caughtUpAt == nil {
            guard rejoining.reported.count + 1 >= voters.majority else { return }
            rejoining.caughtUpAt = now
            rejoin = rejoining
            if rejoining.newest > state.currentEpoch {
                state.currentEpoch = rejoining.newest
                state.votedFor = nil
                persist(&actions)
            }
            highestEpochSeen = max(highestEpochSeen, state.currentEpoch)
            audit(
                .warning,
                "rejoining without durable state: heard \(rejoining.reported.keys.sorted().map(\.rawValue)), at \(state.currentEpoch) now; refusing votes and lease grants for another \(rejoinWait)",
                &actions)
            return
        }
        guard let caughtUpAt = rejoining.caughtUpAt, now - caughtUpAt >= rejoinWait else { return }
        rejoin = nil
        persist(&actions)
        audit(.warning, "rejoined as a voter in \(state.currentEpoch) after waiting out every lease and election it may have taken part in", &actions)
    }
}
