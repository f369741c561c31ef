import Sites

/// The periodic part: heartbeats, lease renewals, and the automatic decisions to stand as
/// candidate (failover, failback, reaffirm).
extension Election {
    mutating func onTick(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        if lastPulseAt.map({ now - $0 >= policy.probeInterval }) ?? true {
            lastPulseAt = now
            actions.append(.broadcast(heartbeat(now: now)))
            startLeaseRound(now: now, &actions)
        }
        lease.prune(now: now, leaseDuration: policy.leaseDuration)
        if state.currentEpoch > state.committed.epoch || staleEpochEvidence != nil {
            if uncommittedSince == nil { uncommittedSince = now }
        } else {
            uncommittedSince = nil
        }
        if candidacy == nil { planCandidacy(now: now, &actions) }
    }

    mutating func onHeartbeat(_ heartbeat: Heartbeat, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        detector.recordHeartbeat(heartbeat, from: peer, now: now)
        highestEpochSeen = max(highestEpochSeen, heartbeat.currentEpoch)
        adopt(heartbeat.committed, via: "heartbeat from \(peer)", now: now, &actions)
        if heartbeat.maintenance.isNewer(than: state.maintenance) {
            state.maintenance = heartbeat.maintenance
            persist(&actions)
            audit(
                .operatorAction,
                "maintenance \(heartbeat.maintenance.enabled ? "on" : "off") (set at \(heartbeat.maintenance.by?.rawValue ?? "?"), heard from \(peer))",
                &actions)
        }
        if heartbeat.acknowledgedEpoch > state.acknowledgedEpoch {
            state.acknowledgedEpoch = heartbeat.acknowledgedEpoch
            persist(&actions)
            audit(.operatorAction, "block period acknowledged through \(heartbeat.acknowledgedEpoch) (heard from \(peer))", &actions)
        }
        adoptAcceptedMajority(now: now, &actions)
    }

    /// A configuration a majority has stored is committed even if its leader died before
    /// saying so; heartbeats show each voter's stored one, so any agent can complete it.
    mutating func adoptAcceptedMajority(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        var holders: [SiteConfig: Int] = [:]
        if let mine = state.accepted { holders[mine, default: 0] += 1 }
        for (_, view) in detector.peers {
            if let theirs = view.heartbeat.accepted { holders[theirs, default: 0] += 1 }
        }
        let proven = holders.filter { $0.key.epoch > state.committed.epoch && $0.value >= voters.majority }
        if let newest = proven.keys.max(by: { $0.epoch < $1.epoch }) {
            adopt(newest, via: "a majority of voters stored it", now: now, &actions)
        }
    }

    /// What this agent would stand for now, if anything.
    func desiredCandidacy(now: MonotonicInstant) -> (target: SiteID, cause: ConfigCause)? {
        let active = state.committed.activeSite
        // The active site's agent re-confirms itself when voters moved to an epoch nobody
        // committed (a failed election): they refuse its renewals until a newer commit, so its
        // lease hangs on the voters left, and one lost acknowledgement fences it. It does so
        // while still serving (see `isReaffirming`), and waits long enough for any election
        // still under way to finish first, so it does not duel with a legitimate failover or
        // an operator's switchover.
        if let mySite, active == mySite, !detector.isDown(mySite, now: now),
            let since = uncommittedSince, now - since >= policy.electionTimeout * 2 + policy.leaseDuration
        {
            return (mySite, .reaffirm)
        }
        guard automaticFailoverEnabled, !state.maintenance.enabled, !isBlocked(now: now) else { return nil }
        if detector.isObjectivelyDown(active, me: me, majority: voters.majority, now: now) {
            // The standby that this agent sees healthy; a witness stands on its behalf too.
            guard let target = voters.sites.first(where: { $0 != active && !detector.isDown($0, now: now) }) else {
                return nil
            }
            return (target, .automaticFailover)
        }
        if case .automatic(let healthyFor) = policy.failback, active != policy.homeSite,
            !detector.isDown(active, now: now),
            let healthy = detector.healthyFor(policy.homeSite, now: now), healthy >= healthyFor
        {
            return (policy.homeSite, .automaticFailback)
        }
        return nil
    }

    /// Plans a candidacy after a random back-off, or starts the planned one when it is due and
    /// still wanted. The back-off spreads agents that saw the failure at the same time.
    /// While holding back for an election this agent voted in (`Support`), it plans nothing;
    /// afterwards it draws a fresh back-off, so held-back voters do not all start at once.
    mutating func planCandidacy(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard heldBackFor(now: now) == nil, let desired = desiredCandidacy(now: now) else {
            plannedCandidacy = nil
            return
        }
        if let planned = plannedCandidacy, planned.target == desired.target, planned.cause == desired.cause {
            guard now >= planned.startAt else { return }
            plannedCandidacy = nil
            startCandidacy(for: desired.target, cause: desired.cause, override: .none, now: now, &actions)
            return
        }
        let fraction = Double(rng.next() >> 11) / Double(UInt64(1) << 53)
        let startAt = now + policy.candidateBackoff * fraction
        plannedCandidacy = PlannedCandidacy(target: desired.target, cause: desired.cause, startAt: startAt)
        let why: String
        switch desired.cause {
        case .automaticFailover:
            let seeing = detector.votersSeeingDown(state.committed.activeSite, me: me, now: now)
            why = "active site \(state.committed.activeSite) is objectively down (seen by \(seeing.map(\.rawValue)))"
        case .automaticFailback:
            why = "home site \(policy.homeSite) healthy long enough for automatic failback"
        default:
            why = "voters moved to an uncommitted epoch; re-confirming \(desired.target)"
        }
        audit(.failureDetected, "\(why); standing as candidate for \(desired.target) after \(startAt - now)", &actions)
    }
}
