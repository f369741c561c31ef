/// How members stay in a group or leave it: heartbeats, LeaveGroup, offset commits, and the
/// timers that remove members that went silent.
extension ConsumerGroup {
    /// Handles a Heartbeat: restarts the member's session timer and tells it whether to rejoin.
    mutating func heartbeat(
        generation requested: GenerationID, memberID: MemberID, groupInstanceID: GroupInstanceID?,
        now: ContinuousClock.Instant
    ) -> GroupErrorCode {
        if isFenced(memberID: memberID, groupInstanceID: groupInstanceID) { return .fencedInstanceID }
        guard members[memberID] != nil else { return .unknownMemberID }
        guard requested == generation else { return .illegalGeneration }
        switch state {
        case .empty, .dead:
            return .unknownMemberID
        case .completingRebalance, .stable:
            restartSession(of: memberID, now: now)
            return .none
        case .preparingRebalance:
            restartSession(of: memberID, now: now)
            return .rebalanceInProgress
        }
    }

    mutating func restartSession(of memberID: MemberID, now: ContinuousClock.Instant) {
        updateMember(memberID) { $0.sessionDeadline = now + $0.sessionTimeout }
    }

    /// Handles one member of a LeaveGroup request.
    mutating func leave(
        _ leaving: LeavingMember, now: ContinuousClock.Instant, into completions: inout [GroupCompletion]
    ) -> GroupErrorCode {
        let memberID = leaving.memberID
        if memberID.isUnknown {
            // An administrator removing a static member by its instance id.
            guard let instance = leaving.groupInstanceID, let current = staticMemberID(instance) else {
                return .unknownMemberID
            }
            removeMemberAndUpdateGroup(current, now: now, reason: "static member \(instance) removed by LeaveGroup", into: &completions)
            return .none
        }
        if isPending(memberID) {
            removePendingMember(memberID)
            tryCompleteJoin(now: now, into: &completions)
            return .none
        }
        if isFenced(memberID: memberID, groupInstanceID: leaving.groupInstanceID) { return .fencedInstanceID }
        guard members[memberID] != nil else { return .unknownMemberID }
        logger.debug("member \(memberID) left the group")
        removeMemberAndUpdateGroup(memberID, now: now, reason: "member \(memberID) left the group", into: &completions)
        return .none
    }

    /// Checks an OffsetCommit's generation and member against the group (nil: commit allowed).
    /// A member's valid commit also counts as a sign of life, as in Kafka.
    mutating func validateOffsetCommit(
        generation requested: GenerationID, memberID: MemberID, groupInstanceID: GroupInstanceID?,
        now: ContinuousClock.Instant
    ) -> GroupErrorCode? {
        let claimsMembership = requested.rawValue >= 0 || !memberID.isUnknown || groupInstanceID != nil
        guard claimsMembership else {
            // A standalone commit (no group management) may not overwrite a live group's offsets.
            return state == .empty ? nil : .unknownMemberID
        }
        if isFenced(memberID: memberID, groupInstanceID: groupInstanceID) { return .fencedInstanceID }
        guard members[memberID] != nil else { return .unknownMemberID }
        guard requested == generation else { return .illegalGeneration }
        switch state {
        case .stable, .preparingRebalance:
            // During PreparingRebalance the member learns of the rebalance from its next
            // heartbeat; its offsets for the old generation are still good.
            restartSession(of: memberID, now: now)
            return nil
        case .completingRebalance:
            // The member already has the new generation but not its assignment yet.
            return .rebalanceInProgress
        case .empty, .dead:
            return .unknownMemberID
        }
    }

    /// Fires every timer due at `now`: forgotten pending members, expired sessions, the end of
    /// the join phase and members that never synced.
    mutating func advance(to now: ContinuousClock.Instant, into completions: inout [GroupCompletion]) {
        for (memberID, deadline) in pendingMembers.sorted(by: { $0.value < $1.value }) where deadline <= now {
            removePendingMember(memberID)
            tryCompleteJoin(now: now, into: &completions)
        }
        for member in orderedMembers {
            // Earlier removals in this loop may have restarted or removed this member.
            guard let current = members[member.id], let deadline = current.sessionDeadline, deadline <= now else {
                continue
            }
            if !current.isNew && (current.isAwaitingJoin || current.parkedSync != nil) {
                // A member waiting in a rebalance cannot heartbeat; its timer restarts when the
                // wait ends.
                updateMember(member.id) { $0.sessionDeadline = nil }
                continue
            }
            logger.debug("member \(member.id) session expired; removing it")
            removeMemberAndUpdateGroup(member.id, now: now, reason: "member \(member.id) session expired", into: &completions)
        }
        tryCompleteJoin(now: now, into: &completions)
        if let deadline = syncDeadline, deadline <= now {
            syncDeadline = nil
            if (state == .completingRebalance || state == .stable) && !pendingSyncMembers.isEmpty {
                let silent = memberOrder.filter(pendingSyncMembers.contains)
                logger.debug("members \(silent.map(\.rawValue)) did not sync in time; removing them")
                for memberID in silent { remove(memberID, into: &completions) }
                prepareRebalance(now: now, reason: "members did not send SyncGroup in time", into: &completions)
            }
        }
    }
}
