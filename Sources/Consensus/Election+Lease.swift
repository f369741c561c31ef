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
        lease.begin(round, epoch: state.committed.epoch, sentAt: now, holder: me)
        // The holder is a voter too: it grants itself, and must count that grant when it votes.
        grantedUntil = max(grantedUntil, now + policy.leaseDuration)
        actions.append(.broadcast(PeerMessage(from: me, body: .leaseRequest(LeaseRequest(config: state.committed, round: round)))))
    }

    /// Voter side. A renewal is granted only for the configuration this voter holds as newest
    /// committed, from that configuration's active agent, and only if the voter has not voted
    /// in a newer epoch: once it has, the new leader counts on this voter's last grant being
    /// its final one for the old epoch.
    mutating func onLeaseRequest(_ request: LeaseRequest, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        let config = request.config
        let fromActiveAgent = voters.agent(of: config.activeSite) == peer
        if fromActiveAgent { adopt(config, via: "lease request from \(peer)", now: now, &actions) }
        let granted = fromActiveAgent && config == state.committed
            && (state.currentEpoch == config.epoch || abandonedOwnElection(after: config.epoch))
        if granted {
            grantedUntil = max(grantedUntil, now + policy.leaseDuration)
        }
        let ack = LeaseAck(epoch: config.epoch, round: request.round, granted: granted, voterEpoch: state.currentEpoch)
        actions.append(.send(PeerMessage(from: me, body: .leaseAck(ack)), to: peer))
    }

    /// Whether this voter's move past `epoch` was only its own failed candidacy: it voted for
    /// itself in its current epoch, that candidacy is no longer running (abandoned, or lost with
    /// a restart: candidacies are never resumed) and never reached the commit phase. Nobody else
    /// can lead that epoch, so nobody counts on this voter's last grant for the old one; without
    /// this, a failed candidate would refuse the active site's renewals until the next commit,
    /// leaving its lease hanging on every remaining voter.
    func abandonedOwnElection(after epoch: Epoch) -> Bool {
        state.currentEpoch > epoch && state.votedFor == me && candidacy == nil
            && state.accepted?.epoch != state.currentEpoch
    }

    mutating func onLeaseAck(_ ack: LeaseAck, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        highestEpochSeen = max(highestEpochSeen, ack.voterEpoch)
        guard ack.epoch == state.committed.epoch else { return }
        if ack.granted {
            _ = lease.acknowledge(ack.round, by: peer, majority: voters.majority, policy: policy)
        } else if ack.voterEpoch > state.committed.epoch {
            staleEpochEvidence = max(staleEpochEvidence ?? ack.voterEpoch, ack.voterEpoch)
        }
    }
}
