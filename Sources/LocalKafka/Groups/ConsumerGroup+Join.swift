import Foundation
import NIOCore

/// JoinGroup handling, following Kafka's classic group coordinator.
extension ConsumerGroup {
    /// Handles a JoinGroup whose group id and session timeout the coordinator has validated.
    /// The answer is appended to `completions` now, or later when the rebalance completes.
    mutating func join(
        _ request: JoinRequest, token: RequestToken, now: ContinuousClock.Instant,
        into completions: inout [GroupCompletion]
    ) {
        if request.memberID.isUnknown {
            joinNewMember(request, token: token, now: now, into: &completions)
        } else {
            joinKnownMember(request, token: token, now: now, into: &completions)
        }
        tryCompleteJoin(now: now, into: &completions)
    }

    private mutating func joinNewMember(
        _ request: JoinRequest, token: RequestToken, now: ContinuousClock.Instant,
        into completions: inout [GroupCompletion]
    ) {
        guard supports(protocolType: request.protocolType, protocols: request.protocols) else {
            completions.append(.init(token: token, response: .join(.failure(memberID: request.memberID, .inconsistentGroupProtocol))))
            return
        }
        let newID = MemberID("\(request.clientID)-\(UUID().uuidString.lowercased())")
        if let instance = request.groupInstanceID, let oldID = staticMemberID(instance) {
            rejoinStaticMember(instance, oldID: oldID, newID: newID, request, token: token, now: now, into: &completions)
        } else if request.groupInstanceID == nil && request.requiresKnownMemberID {
            // KIP-394: the member learns its id first, so a client that times out and retries
            // cannot leave orphan members behind.
            addPendingMember(newID, until: now + request.sessionTimeout)
            completions.append(.init(token: token, response: .join(.failure(memberID: newID, .memberIDRequired))))
        } else {
            addMemberAndRebalance(newID, request, token: token, now: now, into: &completions)
        }
    }

    private mutating func joinKnownMember(
        _ request: JoinRequest, token: RequestToken, now: ContinuousClock.Instant,
        into completions: inout [GroupCompletion]
    ) {
        let memberID = request.memberID
        func fail(_ code: GroupErrorCode, _ completions: inout [GroupCompletion]) {
            completions.append(.init(token: token, response: .join(.failure(memberID: memberID, code))))
        }
        guard supports(protocolType: request.protocolType, protocols: request.protocols) else {
            return fail(.inconsistentGroupProtocol, &completions)
        }
        if isPending(memberID) {
            // Pending members never carry an instance id; one that does is not the client we
            // gave this id to.
            guard request.groupInstanceID == nil else { return fail(.unknownMemberID, &completions) }
            removePendingMember(memberID)
            addMemberAndRebalance(memberID, request, token: token, now: now, into: &completions)
            return
        }
        if isFenced(memberID: memberID, groupInstanceID: request.groupInstanceID) {
            return fail(.fencedInstanceID, &completions)
        }
        guard let member = members[memberID],
            request.groupInstanceID.map({ staticMemberID($0) != nil }) ?? true
        else {
            return fail(.unknownMemberID, &completions)
        }
        switch state {
        case .preparingRebalance:
            updateMemberAndRebalance(request, token: token, now: now, reason: "member \(memberID) joining during PreparingRebalance", into: &completions)
        case .completingRebalance:
            if member.matches(request.protocols) {
                // The member probably missed its JoinGroup answer: give it again.
                supersedeParkedJoin(of: memberID, into: &completions)
                completions.append(.init(token: token, response: .join(joinResult(for: memberID))))
            } else {
                updateMemberAndRebalance(request, token: token, now: now, reason: "member \(memberID) changed its metadata", into: &completions)
            }
        case .stable:
            if leader == memberID || !member.matches(request.protocols) {
                // A rejoining leader asks for a rebalance, e.g. because topic metadata changed.
                updateMemberAndRebalance(request, token: token, now: now, reason: "member \(memberID) rejoined while Stable", into: &completions)
            } else {
                completions.append(.init(token: token, response: .join(joinResult(for: memberID))))
            }
        case .empty, .dead:
            fail(.unknownMemberID, &completions)
        }
    }

    /// Adds a joining member (parked until the rebalance completes) and starts a rebalance.
    private mutating func addMemberAndRebalance(
        _ memberID: MemberID, _ request: JoinRequest, token: RequestToken, now: ContinuousClock.Instant,
        into completions: inout [GroupCompletion]
    ) {
        var member = GroupMember(id: memberID, request: request, parkedJoin: token)
        member.sessionDeadline = now + configuration.newMemberJoinTimeout
        if state == .preparingRebalance && generation == GenerationID(0) {
            initialJoinDelay?.newMemberAdded = true
        }
        add(member)
        logger.debug("member \(memberID) (client \(request.clientID)) joined")
        maybePrepareRebalance(now: now, reason: "adding new member \(memberID)", into: &completions)
    }

    /// Records a rejoin's protocols and timeouts, parks its JoinGroup and starts a rebalance.
    private mutating func updateMemberAndRebalance(
        _ request: JoinRequest, token: RequestToken, now: ContinuousClock.Instant, reason: String,
        into completions: inout [GroupCompletion]
    ) {
        supersedeParkedJoin(of: request.memberID, into: &completions)
        updateMember(request.memberID) { member in
            member.protocols = request.protocols
            member.sessionTimeout = request.sessionTimeout
            member.rebalanceTimeout = max(request.rebalanceTimeout, .zero)
            member.parkedJoin = token
        }
        maybePrepareRebalance(now: now, reason: reason, into: &completions)
    }

    /// Answers a member's earlier parked JoinGroup that a newer one replaces.
    ///
    /// Kafka silently drops the callback (its muted connection has usually timed out). Here
    /// every request is answered: `REBALANCE_IN_PROGRESS` makes a client that is still
    /// listening simply join again, keeping its member id.
    private mutating func supersedeParkedJoin(of memberID: MemberID, into completions: inout [GroupCompletion]) {
        guard let token = members[memberID]?.parkedJoin else { return }
        completions.append(.init(token: token, response: .join(.failure(memberID: memberID, .rebalanceInProgress))))
        updateMember(memberID) { $0.parkedJoin = nil }
    }

    /// A static member restarted (new member id, same instance id): the old id is fenced and
    /// the member keeps its place. A Stable group whose protocol choice does not change keeps
    /// its assignment and does not rebalance.
    private mutating func rejoinStaticMember(
        _ instance: GroupInstanceID, oldID: MemberID, newID: MemberID, _ request: JoinRequest,
        token: RequestToken, now: ContinuousClock.Instant, into completions: inout [GroupCompletion]
    ) {
        let leaderBefore = leader
        replaceStaticMember(instance, oldID: oldID, newID: newID, into: &completions)
        logger.debug("static member \(instance) rejoined as \(newID), fencing \(oldID)")
        updateMember(newID) { member in
            member.protocols = request.protocols
            member.sessionTimeout = request.sessionTimeout
            member.rebalanceTimeout = max(request.rebalanceTimeout, .zero)
            member.sessionDeadline = now + request.sessionTimeout
            member.parkedJoin = token
        }
        switch state {
        case .stable:
            guard selectProtocol() == protocolName else {
                prepareRebalance(now: now, reason: "static member \(instance) changed the group's protocol", into: &completions)
                return
            }
            updateMember(newID) { $0.parkedJoin = nil }
            // The old leader id is reported so that no member (not even a restarted leader)
            // believes it must compute a new assignment: a Stable group would not distribute it.
            var result = joinResult(for: newID, includeMembers: false)
            result.leader = leaderBefore ?? .unknown
            completions.append(.init(token: token, response: .join(result)))
        case .completingRebalance, .empty, .dead:
            // The leader may already be assigning to the old id; start over so the new id gets
            // an assignment.
            maybePrepareRebalance(now: now, reason: "static member \(instance) rejoined during \(state.rawValue)", into: &completions)
        case .preparingRebalance:
            break
        }
    }
}
