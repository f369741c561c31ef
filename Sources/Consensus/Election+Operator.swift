import Sites

/// Operator commands (maintenance, acknowledge, switchover, forced failover).
///
/// Operator moves are not automation: they run in maintenance mode, during a block period and
/// in a two-site setup without a witness. They still go through vote and commit, so the
/// previous active site's lease is waited out and a majority stores the decision; a
/// `SafetyOverride` skips only what it names:
/// - `ignoreHealth`: the target need not look healthy to this agent or to the voters.
/// - `withoutMajority`: this agent decides alone (one vote, one acknowledgement: its own). It
///   still waits out every lease it granted itself. In a two-voter setup every lease needs
///   this agent's grant, so no other site can still be serving; with more voters the operator
///   must know the old active site is down. Two operators doing this on both sides at once
///   create two configurations for one epoch: that is the risk the override accepts, and
///   why it is refused while this agent hears a majority (itself and fresh peers): then the
///   normal vote can decide, and deciding alone could only race it.
extension Election {
    mutating func operatorMove(
        to target: SiteID, cause: ConfigCause, override: SafetyOverride, now: MonotonicInstant,
        _ actions: inout [ElectionAction]
    ) {
        let verb = cause == .operatorSwitchover ? "switchover" : "failover"
        guard voters.members[target] != nil else {
            audit(.operatorAction, "\(verb) to unknown site '\(target)' refused; sites are \(voters.sites.map(\.rawValue))", &actions)
            return
        }
        guard target != state.committed.activeSite else {
            audit(.operatorAction, "\(verb) to \(target) refused: it is already active in \(state.committed.epoch)", &actions)
            return
        }
        if !override.ignoreHealth && detector.isDown(target, now: now) {
            audit(.operatorAction, "\(verb) to \(target) refused: it looks down from here; force with the health override", &actions)
            return
        }
        if override.withoutMajority {
            let reachable = detector.freshPeers(now: now).keys.filter { voters.contains($0) }.count + 1
            if reachable >= voters.majority {
                audit(
                    .operatorAction,
                    "\(verb) to \(target) without a majority refused: \(reachable) of \(voters.count) voters are reachable from here, a majority; run it without the override",
                    &actions)
                return
            }
        }
        if rejoin != nil {
            audit(.operatorAction, "\(verb) to \(target) refused: this agent rejoins without durable state and cannot stand as candidate yet", &actions)
            return
        }
        if let running = candidacy {
            audit(.electionAbandoned, "candidacy for \(running.proposal) dropped for the operator's \(verb)", &actions)
            candidacy = nil
        }
        plannedCandidacy = nil
        audit(
            .operatorAction,
            "operator \(verb) to \(target) (ignoreHealth: \(override.ignoreHealth), withoutMajority: \(override.withoutMajority))",
            &actions)
        startCandidacy(for: target, cause: cause, override: override, now: now, &actions)
    }

    mutating func setMaintenance(_ enabled: Bool, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        let (stamp, overflow) = state.maintenance.stamp.addingReportingOverflow(1)
        guard !overflow else {
            audit(.operatorAction, "maintenance switch refused: stamp counter exhausted", &actions)
            return
        }
        state.maintenance = MaintenanceMark(enabled: enabled, stamp: stamp, by: me)
        if enabled { plannedCandidacy = nil }
        persist(&actions)
        audit(.operatorAction, "maintenance \(enabled ? "on: automatic failover and failback paused" : "off: automation resumed")", &actions)
        actions.append(.broadcast(heartbeat(now: now)))
    }

    mutating func acknowledge(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        state.acknowledgedEpoch = max(state.acknowledgedEpoch, state.committed.epoch)
        blockedUntil = nil
        persist(&actions)
        audit(.operatorAction, "operator acknowledged \(state.committed); automatic changes unblocked", &actions)
        actions.append(.broadcast(heartbeat(now: now)))
    }
}
