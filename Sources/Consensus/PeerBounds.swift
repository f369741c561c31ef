/// How far the numbers a peer sends may run ahead of what this agent knows (issue 11, item 5).
///
/// Epochs, maintenance stamps and acknowledgements are durable once accepted: a single
/// `UInt64.max` from a confused or hostile peer would otherwise end voting (no newer epoch
/// exists), end operator toggles, or lift every future block period, for good.
public enum PeerBounds {
    /// An epoch more than this above what this agent holds (`max(currentEpoch, committed)`)
    /// is not believed: votes and commits for it are refused and it does not feed the next
    /// candidacy's epoch. Why 64: every epoch is one election attempt, and agents in contact
    /// move together (a candidate takes the newest epoch it has seen plus one), so honest agents
    /// are apart by the failed attempts one of them missed; 64 failed elections (each at least
    /// a back-off long) in one absence is far beyond any real outage, while a hostile peer needs
    /// 2^58 accepted messages to exhaust the counter. A voter that missed more catches up on the
    /// next commit, which needs no step bound: it is adopted on a majority's evidence.
    public static let epochStep: UInt64 = 64

    /// A maintenance stamp more than this above this agent's is not believed. Stamps count
    /// operator toggles (one per switch); 1,024 missed toggles is not an absence but an attack.
    public static let maintenanceStampStep: UInt64 = 1024

    /// `base + step` without overflow.
    static func limit(_ base: UInt64, step: UInt64) -> UInt64 {
        let (value, overflow) = base.addingReportingOverflow(step)
        return overflow ? UInt64.max : value
    }
}

extension ElectionPolicy {
    /// The longest lease any agent may be configured with, and so the longest a voter can
    /// report as still running: a candidate waits for what voters report (which may be longer
    /// than its own lease setting during a rolling change) but never for more than this.
    public static let longestLease = Duration.seconds(300)
}

extension Election {
    /// The newest epoch this agent believes a peer about (see `PeerBounds.epochStep`).
    var epochLimit: Epoch {
        Epoch(PeerBounds.limit(max(state.currentEpoch, state.committed.epoch).rawValue, step: PeerBounds.epochStep))
    }

    /// Notes an epoch a peer mentioned, believed only up to `epochLimit`.
    mutating func learn(_ epoch: Epoch) {
        highestEpochSeen = max(highestEpochSeen, min(epoch, epochLimit))
    }
}
