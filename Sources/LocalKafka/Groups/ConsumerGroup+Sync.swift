import NIOCore

/// SyncGroup handling: the leader's assignments are stored and handed to every member.
extension ConsumerGroup {
    /// Handles a SyncGroup; the answer is appended now, or when the leader's assignment arrives.
    mutating func sync(
        _ request: SyncRequest, token: RequestToken, now: ContinuousClock.Instant,
        into completions: inout [GroupCompletion]
    ) {
        func fail(_ code: GroupErrorCode, _ completions: inout [GroupCompletion]) {
            completions.append(.init(token: token, response: .sync(.failure(code))))
        }
        let memberID = request.memberID
        if isFenced(memberID: memberID, groupInstanceID: request.groupInstanceID) {
            return fail(.fencedInstanceID, &completions)
        }
        guard members[memberID] != nil else { return fail(.unknownMemberID, &completions) }
        guard request.generationID == generation else { return fail(.illegalGeneration, &completions) }
        if let type = request.protocolType, type != protocolType {
            return fail(.inconsistentGroupProtocol, &completions)
        }
        if let name = request.protocolName, name != protocolName {
            return fail(.inconsistentGroupProtocol, &completions)
        }
        switch state {
        case .empty, .dead:
            fail(.unknownMemberID, &completions)
        case .preparingRebalance:
            fail(.rebalanceInProgress, &completions)
        case .completingRebalance:
            if let earlier = members[memberID]?.parkedSync {
                // As with joins, Kafka drops the superseded callback; answer it so the client (if
                // still listening) rejoins instead of waiting forever.
                completions.append(.init(token: earlier, response: .sync(.failure(.rebalanceInProgress))))
            }
            updateMember(memberID) { $0.parkedSync = token }
            markSynced(memberID)
            if leader == memberID {
                applyLeaderAssignment(request.assignments, now: now, into: &completions)
            }
        case .stable:
            markSynced(memberID)
            let type = protocolType
            let name = protocolName
            updateMember(memberID) { member in
                let result = SyncResult(errorCode: .none, protocolType: type, protocolName: name, assignment: member.assignment)
                completions.append(.init(token: token, response: .sync(result)))
                member.sessionDeadline = now + member.sessionTimeout
            }
        }
    }

    /// Stores the leader's assignments (members it left out get an empty one, ids that are not
    /// members are ignored), answers every parked sync and makes the group Stable.
    private mutating func applyLeaderAssignment(
        _ assignments: [MemberAssignment], now: ContinuousClock.Instant, into completions: inout [GroupCompletion]
    ) {
        var byMember: [MemberID: ByteBuffer] = [:]
        for entry in assignments { byMember[entry.memberID] = entry.assignment }
        let missing = memberOrder.filter { byMember[$0] == nil }
        if !missing.isEmpty {
            logger.warning("leader gave no assignment to \(missing.map(\.rawValue)); they get an empty one")
        }
        for memberID in memberOrder {
            updateMember(memberID) { $0.assignment = byMember[memberID] ?? ByteBuffer() }
        }
        propagateAssignment(error: .none, now: now, into: &completions)
        transition(to: .stable)
    }
}
