/// Lease renewal: the active site's agent asks every probe interval; voters grant while the
/// epoch is current for them.
extension Election {
    /// Starts a renewal round if this agent is the committed active site's agent.
    mutating func startLeaseRound(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard let mySite, state.committed.activeSite == mySite,
            state.currentEpoch == state.committed.epoch || abandonedOwnElection(after: state.committed.epoch)
        else { return }
        leaseSequence &+= 1
        let round = LeaseRound(incarnation: incarnation, sequence: leaseSequence)
        lease.begin(round, epoch: state.committed.epoch, sentAt: now, holder: me, ownGrant: policy.leaseDuration)
        // The holder is a voter too: it grants itself, and must count that grant when it votes.
        recordGrant(policy.leaseDuration, now: now, &actions)
        let request = LeaseRequest(config: state.committed, round: round, duration: policy.leaseDuration)
        actions.append(.broadcast(PeerMessage(from: me, body: .leaseRequest(request))))
    }

    /// Remembers a grant of `duration` from `now`: in memory for the votes this voter reports,
    /// and durably as the longest grant ever, so that a restart (possibly with a shorter
    /// `detection.lease`, as in a rolling change) still assumes the longest one it may have given.
    mutating func recordGrant(_ duration: Duration, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        grantedUntil = max(grantedUntil, now + duration)
        if duration > (state.longestLeaseGranted ?? .zero) {
            state.longestLeaseGranted = duration
            persist(&actions)
        }
    }

    /// Voter side. A renewal is granted only for the configuration this voter holds as newest
    /// committed, from that configuration's active agent, and only if the voter has not voted
    /// in a newer epoch: once it has, the new leader counts on this voter's last grant being
    /// its final one for the old epoch. Nor if it stored a newer configuration for a leader
    /// (`accepted`): that leader may have committed it with this voter's copy, so the old
    /// epoch is over here whatever became of this voter's own later candidacy.
    /// It grants the shorter of the duration asked for and its own lease setting, and says so.
    /// A rejoining voter (no durable state) grants nothing until it has caught up (`Rejoin`).
    mutating func onLeaseRequest(_ request: LeaseRequest, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        let config = request.config
        learn(config.epoch)
        let fromActiveAgent = voters.agent(of: config.activeSite) == peer
        if fromActiveAgent { adoptClaim(config, from: peer, now: now, &actions) }
        let granted = fromActiveAgent && config == state.committed && rejoin == nil
            && (state.currentEpoch == config.epoch || abandonedOwnElection(after: config.epoch))
            && !acceptedNewer(than: config.epoch)
        let duration = granted ? min(max(request.duration, .zero), policy.leaseDuration) : .zero
        if granted { recordGrant(duration, now: now, &actions) }
        let ack = LeaseAck(epoch: config.epoch, round: request.round, granted: granted, voterEpoch: state.currentEpoch, duration: duration)
        actions.append(.send(PeerMessage(from: me, body: .leaseAck(ack)), to: peer))
    }

    /// Whether this voter stored a leader's configuration newer than `epoch` (issue 11, item 2).
    func acceptedNewer(than epoch: Epoch) -> Bool {
        return state.accepted.map { $0.epoch > epoch } ?? false
    }

    /// Whether this voter's move past `epoch` was only its own failed candidacy: it voted for
    /// itself in its current epoch, that candidacy is no longer running (abandoned, or lost with
    /// a restart: candidacies are never resumed) and never reached the commit phase. Nobody else
    /// can lead that epoch, so nobody counts on this voter's last grant for the old one; without
    /// this, a failed candidate would refuse the active site's renewals until the next commit,
    /// leaving its lease hanging on every remaining voter.
    ///
    /// Not when it voted for another candidate in an epoch after `epoch` before standing itself
    /// (the hole the spin model found, Models/README.md): that candidate may commit its epoch
    /// with the other voters and count on this voter's grant for `epoch` being over.
    func abandonedOwnElection(after epoch: Epoch) -> Bool {
        state.currentEpoch > epoch && state.votedFor == me && candidacy == nil
            && state.accepted?.epoch != state.currentEpoch
            && !(state.votedForAnotherIn.map { $0 > epoch } ?? false)
    }

    mutating func onLeaseAck(_ ack: LeaseAck, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        learn(ack.voterEpoch)
        guard ack.epoch == state.committed.epoch else { return }
        if ack.granted {
            _ = lease.acknowledge(ack.round, by: peer, duration: ack.duration, majority: voters.majority, policy: policy)
        } else if ack.voterEpoch > state.committed.epoch {
            staleEpochEvidence = max(staleEpochEvidence ?? ack.voterEpoch, ack.voterEpoch)
        }
    }
}
