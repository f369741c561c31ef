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
        progressRejoin(now: now, &actions)
        if state.currentEpoch > state.committed.epoch || staleEpochEvidence != nil {
            if uncommittedSince == nil { uncommittedSince = now }
        } else {
            uncommittedSince = nil
        }
        if candidacy == nil { planCandidacy(now: now, &actions) }
    }

    mutating func onHeartbeat(_ heartbeat: Heartbeat, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        detector.recordHeartbeat(heartbeat, from: peer, now: now)
        learn(heartbeat.currentEpoch)
        if var rejoining = rejoin {
            rejoining.heard(heartbeat.currentEpoch, from: peer)
            rejoin = rejoining
        }
        adoptClaim(heartbeat.committed, from: peer, now: now, &actions)
        adoptProven(now: now, &actions)
        let stampLimit = PeerBounds.limit(state.maintenance.stamp, step: PeerBounds.maintenanceStampStep)
        if heartbeat.maintenance.isNewer(than: state.maintenance) {
            if heartbeat.maintenance.stamp > stampLimit {
                audit(
                    .messageRefused,
                    "maintenance stamp \(heartbeat.maintenance.stamp) from \(peer) is more than \(PeerBounds.maintenanceStampStep) above this agent's \(state.maintenance.stamp); ignored",
                    &actions)
            } else {
                state.maintenance = heartbeat.maintenance
                persist(&actions)
                audit(
                    .operatorAction,
                    "maintenance \(heartbeat.maintenance.enabled ? "on" : "off") (set at \(heartbeat.maintenance.by?.rawValue ?? "?"), heard from \(peer))",
                    &actions)
            }
        }
        // An acknowledgement speaks for a committed change; one this agent has not adopted yet
        // is heard again in the peer's next heartbeat, once it has.
        let acknowledged = min(heartbeat.acknowledgedEpoch, state.committed.epoch)
        if acknowledged > state.acknowledgedEpoch {
            state.acknowledgedEpoch = acknowledged
            persist(&actions)
            audit(.operatorAction, "block period acknowledged through \(acknowledged) (heard from \(peer))", &actions)
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
        if let mySite, active == mySite, rejoin == nil, !detector.isDown(mySite, now: now),
            let since = uncommittedSince, now - since >= policy.electionTimeout * 2 + policy.leaseDuration
        {
            return (mySite, .reaffirm)
        }
        guard automaticFailoverEnabled, !state.maintenance.enabled, !isBlocked(now: now), rejoin == nil else { return nil }
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
