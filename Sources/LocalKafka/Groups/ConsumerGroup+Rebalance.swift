import NIOCore

/// The rebalance cycle: PreparingRebalance (collect joins) → CompletingRebalance (collect the
/// leader's assignments) → Stable, restarted whenever membership or metadata changes.
extension ConsumerGroup {
    /// Starts a rebalance unless one is already collecting joins (or the group is gone).
    mutating func maybePrepareRebalance(now: ContinuousClock.Instant, reason: String, into completions: inout [GroupCompletion]) {
        switch state {
        case .stable, .completingRebalance, .empty:
            prepareRebalance(now: now, reason: reason, into: &completions)
        case .preparingRebalance, .dead:
            break
        }
    }

    /// Moves to PreparingRebalance: parked syncs learn `REBALANCE_IN_PROGRESS`, and the join
    /// completes once every member rejoined or the rebalance timeout passes (after the initial
    /// delay instead, for a group that was empty).
    mutating func prepareRebalance(now: ContinuousClock.Instant, reason: String, into completions: inout [GroupCompletion]) {
        if state == .completingRebalance {
            resetAndPropagateAssignmentError(.rebalanceInProgress, now: now, into: &completions)
        }
        syncDeadline = nil
        if state == .empty {
            let delay = max(configuration.initialRebalanceDelay, .zero)
            joinDeadline = now + delay
            initialJoinDelay = InitialJoinDelay(delay: delay, remaining: max(rebalanceTimeout - delay, .zero))
        } else {
            joinDeadline = now + rebalanceTimeout
            initialJoinDelay = nil
        }
        logger.debug(
            "preparing to rebalance group in state \(state.rawValue) with old generation \(generation) (reason: \(reason))")
        transition(to: .preparingRebalance)
        tryCompleteJoin(now: now, into: &completions)
    }

    /// True when every member has a parked JoinGroup and no member still owes its first join.
    var hasAllMembersJoined: Bool {
        pendingMembers.isEmpty && members.values.allSatisfy(\.isAwaitingJoin)
    }

    /// Completes the join phase if it is due: all members are in (outside the initial delay) or
    /// the deadline has passed.
    mutating func tryCompleteJoin(now: ContinuousClock.Instant, into completions: inout [GroupCompletion]) {
        guard state == .preparingRebalance, let deadline = joinDeadline else { return }
        if var initial = initialJoinDelay {
            // The initial delay never completes early: it exists to gather members that are
            // starting up at the same time.
            guard deadline <= now else { return }
            if initial.newMemberAdded && initial.remaining > .zero {
                let extra = min(initial.delay, initial.remaining)
                initial.remaining -= extra
                initial.newMemberAdded = false
                initialJoinDelay = initial
                joinDeadline = now + extra
                if extra > .zero { return }
            }
            completeJoin(now: now, into: &completions)
        } else if hasAllMembersJoined || deadline <= now {
            completeJoin(now: now, into: &completions)
        }
    }

    /// Ends the join phase: dynamic members that did not rejoin are dropped, a leader that
    /// rejoined is chosen, the generation advances and every parked join is answered.
    mutating func completeJoin(now: ContinuousClock.Instant, into completions: inout [GroupCompletion]) {
        for member in orderedMembers where !member.isAwaitingJoin && !member.isStatic {
            logger.debug("removing member \(member.id) that did not rejoin before the rebalance timeout")
            remove(member.id, into: &completions)
        }
        if !electJoinedLeader() && !members.isEmpty {
            // Only static members remain and none rejoined: wait another round; their session
            // timeouts remove them if they are gone. The floor keeps a zero timeout from spinning.
            joinDeadline = now + max(rebalanceTimeout, .seconds(1))
            initialJoinDelay = nil
            logger.warning("no member rejoined; postponing the rebalance")
            return
        }
        joinDeadline = nil
        initialJoinDelay = nil
        generation = generation.next
        pendingSyncMembers = Set(memberOrder)
        if members.isEmpty {
            protocolName = nil
            transition(to: .empty)
            logger.debug("group is empty at generation \(generation)")
            return
        }
        protocolName = selectProtocol()
        transition(to: .completingRebalance)
        logger.debug(
            "stabilized group generation \(generation) (protocol \(protocolName ?? "none"), \(members.count) members, leader \(leader?.rawValue ?? "none"))")
        for memberID in memberOrder {
            let result = joinResult(for: memberID)
            updateMember(memberID) { member in
                if let token = member.parkedJoin {
                    completions.append(.init(token: token, response: .join(result)))
                    member.parkedJoin = nil
                }
                member.isNew = false
                member.sessionDeadline = now + member.sessionTimeout
            }
        }
        syncDeadline = now + rebalanceTimeout
    }

    /// Keeps the leader if it rejoined, else hands leadership to the first member that did.
    /// Returns false when no member rejoined.
    mutating func electJoinedLeader() -> Bool {
        guard let current = leader else { return false }
        if members[current]?.isAwaitingJoin == true { return true }
        guard let joined = orderedMembers.first(where: \.isAwaitingJoin) else { return false }
        leader = joined.id
        return true
    }

    /// Clears every assignment and answers parked syncs with `error` (the rebalance restarted).
    mutating func resetAndPropagateAssignmentError(
        _ error: GroupErrorCode, now: ContinuousClock.Instant, into completions: inout [GroupCompletion]
    ) {
        for memberID in memberOrder {
            updateMember(memberID) { $0.assignment = ByteBuffer() }
        }
        propagateAssignment(error: error, now: now, into: &completions)
    }

    /// Answers every parked sync with the member's assignment (or `error`), restarting those
    /// members' session timers: they could not heartbeat while waiting.
    mutating func propagateAssignment(
        error: GroupErrorCode, now: ContinuousClock.Instant, into completions: inout [GroupCompletion]
    ) {
        let type = protocolType
        let name = protocolName
        for memberID in memberOrder {
            updateMember(memberID) { member in
                guard let token = member.parkedSync else { return }
                let result =
                    error == .none
                    ? SyncResult(errorCode: .none, protocolType: type, protocolName: name, assignment: member.assignment)
                    : SyncResult.failure(error)
                completions.append(.init(token: token, response: .sync(result)))
                member.parkedSync = nil
                member.sessionDeadline = now + member.sessionTimeout
            }
        }
    }

    /// Removes a member that left or expired and restarts the rebalance or lets a running one
    /// complete without it.
    mutating func removeMemberAndUpdateGroup(
        _ memberID: MemberID, now: ContinuousClock.Instant, reason: String, into completions: inout [GroupCompletion]
    ) {
        remove(memberID, into: &completions)
        switch state {
        case .dead, .empty:
            break
        case .stable, .completingRebalance:
            maybePrepareRebalance(now: now, reason: reason, into: &completions)
        case .preparingRebalance:
            tryCompleteJoin(now: now, into: &completions)
        }
    }
}
