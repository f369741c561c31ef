import Sites

/// Candidate, voter and leader: votes, then the lease wait, then the commit.
extension Election {
    // MARK: Candidate

    /// Stands as candidate for `target` one epoch past the newest it has seen anywhere (so
    /// voters that moved on do not refuse it for its epoch). The self-vote is persisted before
    /// the vote requests go out, so a restart cannot vote again in the same epoch.
    mutating func startCandidacy(
        for target: SiteID, cause: ConfigCause, override: SafetyOverride, now: MonotonicInstant,
        _ actions: inout [ElectionAction]
    ) {
        guard let epoch = max(state.currentEpoch, highestEpochSeen).next else {
            audit(.electionAbandoned, "epoch counter exhausted at \(highestEpochSeen); cannot stand as candidate", &actions)
            return
        }
        let base = state.committed
        let mirror: MirrorDirection
        if target == base.activeSite {
            mirror = base.mirrorDirection
        } else {
            mirror = MirrorDirection(from: target, to: base.activeSite)
        }
        let proposal = SiteConfig(epoch: epoch, activeSite: target, mirrorDirection: mirror, cause: cause)
        state.currentEpoch = epoch
        state.votedFor = me
        highestEpochSeen = epoch
        persist(&actions)
        candidacy = Candidacy(
            proposal: proposal, base: base, override: override,
            required: override.withoutMajority ? 1 : voters.majority, phaseStartedAt: now,
            votes: [me: grantedUntil]
        )
        audit(.candidacy, "candidate in \(epoch) for \(proposal) replacing \(base.activeSite) in \(base.epoch)", &actions)
        let request = VoteRequest(proposal: proposal, base: base, override: override)
        actions.append(.broadcast(PeerMessage(from: me, body: .voteRequest(request))))
        checkVotes(now: now, &actions)
    }

    /// Counts a vote only if it names this candidate and this election's epoch: a vote
    /// replayed or misdelivered from another candidate's election is not this one's.
    mutating func onVoteResponse(_ response: VoteResponse, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        learn(response.voterEpoch)
        adoptClaim(response.voterCommitted, from: peer, now: now, &actions)
        guard var running = candidacy, running.epoch == response.epoch, response.candidate == me,
            running.phase == .collectingVotes, response.granted
        else { return }
        // Voters may have a longer lease setting than this candidate (a rolling change), so
        // what they report is waited out in full; only a figure no configuration allows is a
        // malformed message, clamped to the longest lease, never trusted further.
        let remaining = min(max(response.leaseRemaining, .zero), ElectionPolicy.longestLease)
        running.votes[peer] = now + remaining
        candidacy = running
        checkVotes(now: now, &actions)
    }

    mutating func checkVotes(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard var running = candidacy, running.phase == .collectingVotes, running.votes.count >= running.required,
            let leaseEnd = running.votes.values.max()
        else { return }
        let until = max(leaseEnd, now)
        running.phase = .waitingOutLease(until: until)
        running.phaseStartedAt = now
        candidacy = running
        audit(
            .elected,
            "leader of \(running.epoch) with votes of \(running.votes.keys.sorted().map(\.rawValue)); waiting \(until - now) for the previous lease to run out",
            &actions)
        progressCandidacy(now: now, &actions)
    }

    /// Moves a running election on: lease wait over → commit; too slow → give up.
    mutating func progressCandidacy(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard var running = candidacy else { return }
        switch running.phase {
        case .waitingOutLease(let until):
            guard now >= until else { return }
            running.phase = .committing
            running.phaseStartedAt = now
            running.acks = [me]
            candidacy = running
            state.accepted = running.proposal
            persist(&actions)
            actions.append(.broadcast(PeerMessage(from: me, body: .commitRequest(CommitRequest(config: running.proposal)))))
            checkAcks(now: now, &actions)
        case .collectingVotes, .committing:
            guard now - running.phaseStartedAt >= policy.electionTimeout else { return }
            candidacy = nil
            audit(.electionAbandoned, "no majority within \(policy.electionTimeout) for \(running.proposal); giving up", &actions)
        }
    }

    mutating func onCommitAck(_ ack: CommitAck, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        learn(ack.voterEpoch)
        guard var running = candidacy, running.phase == .committing, running.epoch == ack.epoch, ack.accepted else {
            return
        }
        running.acks.insert(peer)
        candidacy = running
        checkAcks(now: now, &actions)
    }

    mutating func checkAcks(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard let running = candidacy, running.phase == .committing, running.acks.count >= running.required else { return }
        candidacy = nil
        adopt(running.proposal, via: "stored by \(running.acks.sorted().map(\.rawValue)) as leader", now: now, &actions)
        actions.append(.broadcast(heartbeat(now: now)))
    }

    // MARK: Voter

    /// Grants at most one vote per epoch, for an epoch newer than any seen, to a candidate
    /// whose proposal this voter agrees with; the grant is persisted before the reply.
    /// A refusal changes nothing here, so a candidate this voter disagrees with cannot disturb
    /// the current active site's lease. "Newer than any seen" means newer than the epoch this
    /// voter voted in or adopted: an epoch number merely mentioned in a heartbeat proves
    /// nothing, and refusing on it would let one confused peer stall every election.
    mutating func onVoteRequest(_ request: VoteRequest, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        let proposal = request.proposal
        learn(proposal.epoch)
        let repeated = proposal.epoch == state.currentEpoch && state.votedFor == peer
        var objection: Objection?
        if rejoin != nil {
            objection = Objection("this voter rejoins without durable state and votes only once it has caught up with a majority and waited out its old leases")
        } else if proposal.epoch > epochLimit {
            objection = Objection("epoch \(proposal.epoch) is more than \(PeerBounds.epochStep) above this voter's \(max(state.currentEpoch, state.committed.epoch))")
        } else if !(proposal.epoch > state.currentEpoch || repeated) {
            objection = Objection("epoch \(proposal.epoch) is not newer than \(state.currentEpoch) (voted for \(state.votedFor?.rawValue ?? "nobody"))")
        } else if !isKnown(proposal) || !isKnown(request.base) {
            objection = Objection("the proposal names an unknown site")
        } else if !repeated, proposal.cause.isAutomatic || proposal.cause == .reaffirm, let held = heldBackFor(now: now),
            held.candidate != peer
        {
            objection = Objection(
                "supporting \(held.candidate)'s election in \(held.proposal.epoch) of \(held.proposal.activeSite) until it commits or times out")
        } else {
            if request.base.epoch > state.committed.epoch {
                adoptClaim(request.base, from: peer, now: now, &actions)
            }
            if request.base.epoch < state.committed.epoch {
                objection = Objection("the candidate replaces \(request.base.epoch), but \(state.committed.epoch) is committed")
            } else {
                objection = disagreement(with: request, now: now)
            }
        }
        let remaining = max(grantedUntil - now, .zero)
        if objection?.failureNotSeenYet == true, !repeated {
            // The candidate saw the failure first; this voter would stand for the same change
            // moments later, in a newer epoch that would only compete with this one. It holds
            // back for this election as if it had voted (Support); the refusal stands.
            support(proposal, of: peer, until: now + remaining + policy.electionTimeout)
        }
        if let objection = objection?.reason {
            audit(.voteRefused, "refused \(peer) in \(proposal.epoch): \(objection)", &actions)
            let response = VoteResponse(
                epoch: proposal.epoch, candidate: peer, granted: false, leaseRemaining: remaining, voterEpoch: state.currentEpoch,
                voterCommitted: state.committed, reason: objection)
            actions.append(.send(PeerMessage(from: me, body: .voteResponse(response)), to: peer))
            return
        }
        if !repeated {
            state.currentEpoch = proposal.epoch
            state.votedFor = peer
            if peer != me { state.votedForAnotherIn = max(state.votedForAnotherIn ?? proposal.epoch, proposal.epoch) }
            persist(&actions)
            if let running = candidacy, running.epoch < proposal.epoch {
                candidacy = nil
                audit(.electionAbandoned, "own candidacy in \(running.epoch) dropped for \(peer)'s in \(proposal.epoch)", &actions)
            }
            audit(.voteGranted, "voted for \(peer) in \(proposal.epoch): \(proposal)", &actions)
        }
        support(proposal, of: peer, until: now + remaining + policy.electionTimeout)
        let response = VoteResponse(
            epoch: proposal.epoch, candidate: peer, granted: true, leaseRemaining: remaining, voterEpoch: state.currentEpoch,
            voterCommitted: state.committed, reason: "granted")
        actions.append(.send(PeerMessage(from: me, body: .voteResponse(response)), to: peer))
    }

    /// Why this voter, from what it sees itself, does not support the proposal (`nil`: it does).
    func disagreement(with request: VoteRequest, now: MonotonicInstant) -> Objection? {
        let proposal = request.proposal
        let active = state.committed.activeSite
        let target = proposal.activeSite
        switch proposal.cause {
        case .initial:
            return Objection("the initial configuration is never elected")
        case .automaticFailover, .automaticFailback:
            if !automaticFailoverEnabled { return Objection("automatic changes are disabled here") }
            if state.maintenance.enabled { return Objection("maintenance mode pauses automatic changes") }
            if isBlocked(now: now) { return Objection("automatic changes are blocked after the last one until acknowledged") }
            if target == active { return Objection("\(target) is already active") }
            if detector.isDown(target, now: now) { return Objection("\(target) looks down from here") }
            if proposal.cause == .automaticFailover {
                // Everything else this voter checks agrees: it has just not seen the failure yet.
                return detector.isDown(active, now: now)
                    ? nil : Objection("active site \(active) looks healthy from here", failureNotSeenYet: true)
            }
            guard case .automatic = policy.failback else { return Objection("failback is manual here") }
            return target == policy.homeSite ? nil : Objection("\(target) is not the home site \(policy.homeSite)")
        case .reaffirm:
            if target != active { return Objection("a reaffirmation must keep \(active) active") }
            return detector.isDown(target, now: now) ? Objection("\(target) looks down from here") : nil
        case .operatorSwitchover, .operatorFailover:
            if !request.override.ignoreHealth && detector.isDown(target, now: now) {
                return Objection("\(target) looks down from here (an operator may override the health check)")
            }
            return nil
        }
    }

    /// Stores a leader's configuration durably before acknowledging it. In this voter's own
    /// epoch only from the candidate it voted for there (no one else can have won it); in a
    /// newer epoch (within `epochLimit`) from whoever leads it, since this voter took no part
    /// in that election. Refused for an older epoch (a newer election has started) or one
    /// already superseded.
    mutating func onCommitRequest(_ request: CommitRequest, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        let config = request.config
        learn(config.epoch)
        let fromItsLeader = config.epoch > state.currentEpoch ? config.epoch <= epochLimit
            : config.epoch == state.currentEpoch && state.votedFor == peer
        guard fromItsLeader, config.epoch > state.committed.epoch, isKnown(config) else {
            audit(
                .commitRefused,
                "refused \(peer)'s \(config): this voter is at \(state.currentEpoch) (voted for \(state.votedFor?.rawValue ?? "nobody")), committed \(state.committed.epoch)",
                &actions)
            let ack = CommitAck(epoch: config.epoch, accepted: false, voterEpoch: state.currentEpoch)
            actions.append(.send(PeerMessage(from: me, body: .commitAck(ack)), to: peer))
            return
        }
        if state.accepted != config {
            if config.epoch > state.currentEpoch {
                state.currentEpoch = config.epoch
                state.votedFor = peer
            }
            if peer != me { state.votedForAnotherIn = max(state.votedForAnotherIn ?? config.epoch, config.epoch) }
            state.accepted = config
            persist(&actions)
            audit(.commitAccepted, "stored \(peer)'s \(config)", &actions)
            support(config, of: peer, until: now + policy.electionTimeout)
            if let running = candidacy, running.epoch < config.epoch {
                candidacy = nil
                audit(.electionAbandoned, "own candidacy in \(running.epoch) dropped for \(peer)'s \(config.epoch)", &actions)
            }
        }
        let ack = CommitAck(epoch: config.epoch, accepted: true, voterEpoch: state.currentEpoch)
        actions.append(.send(PeerMessage(from: me, body: .commitAck(ack)), to: peer))
    }
}

/// Why a voter refuses a vote; `failureNotSeenYet` when the only reason is that it does not see
/// the active site down yet (an automatic failover it would otherwise support).
struct Objection {
    var reason: String
    var failureNotSeenYet: Bool

    init(_ reason: String, failureNotSeenYet: Bool = false) {
        self.reason = reason
        self.failureNotSeenYet = failureNotSeenYet
    }
}
