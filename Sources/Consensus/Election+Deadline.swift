/// When the election next needs time to pass (issue 11, item 10): the runtime wakes it with a
/// `.tick` then, and on every other event, instead of polling many times a second.
extension Election {
    /// The earliest instant at which a `.tick` may change something: the next heartbeat and
    /// lease round, a planned candidacy's start, the end of a lease wait, election or
    /// rejoin timeouts, a lease or support running out, a site turning subjectively down, a
    /// peer's heartbeat going stale, the block period ending. Never later than one probe
    /// interval from the last heartbeat, so an idle agent wakes about once a second.
    /// Ticking earlier or more often is always allowed.
    public func nextDeadline(now: MonotonicInstant) -> MonotonicInstant {
        var due: [MonotonicInstant] = [(lastPulseAt ?? now) + policy.probeInterval]
        if let planned = plannedCandidacy { due.append(planned.startAt) }
        if let running = candidacy {
            if case .waitingOutLease(let until) = running.phase {
                due.append(until)
            } else {
                due.append(running.phaseStartedAt + policy.electionTimeout)
            }
        }
        if let until = lease.validUntil { due.append(until) }
        if let supporting { due.append(supporting.until) }
        if let blockedUntil { due.append(blockedUntil) }
        if let caughtUpAt = rejoin?.caughtUpAt { due.append(caughtUpAt + rejoinWait) }
        if let since = uncommittedSince { due.append(since + policy.electionTimeout * 2 + policy.leaseDuration) }
        due += detector.transitions()
        if case .automatic(let healthyFor) = policy.failback {
            due += detector.healthySince.values.map { $0 + healthyFor }
        }
        // Instants already past were handled by the tick that passed them; the pulse is due
        // at once if no tick has run for a probe interval.
        let pulse = due[0]
        let next = due.filter { $0 > now }.min() ?? pulse
        return pulse <= now ? now : min(next, pulse)
    }
}
