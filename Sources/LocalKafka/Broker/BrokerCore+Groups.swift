import KafkaWire
import NIOCore

/// The classic consumer group protocol: the `GroupCoordinator` state machine decides, this
/// extension translates wire requests to it and parks requests it answers later.
extension BrokerCore {
    func joinGroup(_ request: JoinGroupRequest, version: Int16, client: ClientConnection, clientID: String?) async -> JoinGroupResponse {
        let join = JoinRequest(
            groupID: GroupID(request.groupId),
            memberID: MemberID(request.memberId),
            groupInstanceID: request.groupInstanceId.map { GroupInstanceID($0) },
            clientID: clientID ?? "",
            clientHost: client.host,
            sessionTimeout: .milliseconds(Int(request.sessionTimeoutMs)),
            // JoinGroup v0 has no rebalance timeout; Kafka uses the session timeout.
            rebalanceTimeout: .milliseconds(Int(version == 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs)),
            protocolType: request.protocolType,
            protocols: request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata ?? ByteBuffer()) },
            requiresKnownMemberID: version >= 4
        )
        let token = makeToken()
        let completions = groups.join(join, token: token, now: .now)
        guard case .join(let result)? = await awaitCompletion(of: token, in: completions) else {
            return JoinGroupResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, memberId: request.memberId)
        }
        return JoinGroupResponse(
            errorCode: result.errorCode.rawValue,
            generationId: result.generationID.rawValue,
            protocolName: result.protocolName ?? "",
            leader: result.leader.rawValue,
            memberId: result.memberID.rawValue,
            members: result.members.map {
                .init(memberId: $0.memberID.rawValue, groupInstanceId: $0.groupInstanceID?.rawValue, metadata: $0.metadata)
            }
        )
    }

    func syncGroup(_ request: SyncGroupRequest) async -> SyncGroupResponse {
        let sync = SyncRequest(
            groupID: GroupID(request.groupId),
            generationID: GenerationID(request.generationId),
            memberID: MemberID(request.memberId),
            groupInstanceID: request.groupInstanceId.map { GroupInstanceID($0) },
            assignments: request.assignments.map {
                MemberAssignment(memberID: MemberID($0.memberId), assignment: $0.assignment ?? ByteBuffer())
            }
        )
        let token = makeToken()
        let completions = groups.sync(sync, token: token, now: .now)
        guard case .sync(let result)? = await awaitCompletion(of: token, in: completions) else {
            return SyncGroupResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, assignment: ByteBuffer())
        }
        return SyncGroupResponse(errorCode: result.errorCode.rawValue, assignment: result.assignment)
    }

    func heartbeat(_ request: HeartbeatRequest) -> HeartbeatResponse {
        let code = groups.heartbeat(
            groupID: GroupID(request.groupId), generationID: GenerationID(request.generationId),
            memberID: MemberID(request.memberId), groupInstanceID: request.groupInstanceId.map { GroupInstanceID($0) },
            now: .now
        )
        return HeartbeatResponse(errorCode: code.rawValue)
    }

    func leaveGroup(_ request: LeaveGroupRequest, version: Int16) -> LeaveGroupResponse {
        // v0–v2 name one member; v3+ a batch.
        let leaving = version >= 3
            ? request.members.map { LeavingMember(memberID: MemberID($0.memberId), groupInstanceID: $0.groupInstanceId.map { GroupInstanceID($0) }) }
            : [LeavingMember(memberID: MemberID(request.memberId))]
        let outcome = groups.leave(groupID: GroupID(request.groupId), members: leaving, now: .now)
        complete(outcome.completions)
        return LeaveGroupResponse(
            errorCode: (version >= 3 ? outcome.errorCode : outcome.singleMemberErrorCode).rawValue,
            members: outcome.members.map {
                .init(memberId: $0.memberID.rawValue, groupInstanceId: $0.groupInstanceID?.rawValue, errorCode: $0.errorCode.rawValue)
            }
        )
    }

    func describeGroups(_ request: DescribeGroupsRequest) -> DescribeGroupsResponse {
        DescribeGroupsResponse(groups: request.groups.map { id in
            let group = groups.describe(groupID: GroupID(id))
            return .init(
                errorCode: group.errorCode.rawValue, groupId: id, groupState: group.state.rawValue,
                protocolType: group.protocolType, protocolData: group.protocolName,
                members: group.members.map {
                    .init(memberId: $0.memberID.rawValue, groupInstanceId: $0.groupInstanceID?.rawValue,
                          clientId: $0.clientID, clientHost: $0.clientHost,
                          memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                },
                authorizedOperations: Self.operationsNotRequested
            )
        })
    }

    func listGroups() -> ListGroupsResponse {
        ListGroupsResponse(errorCode: 0, groups: groups.list().map {
            .init(groupId: $0.groupID.rawValue, protocolType: $0.protocolType)
        })
    }

    // MARK: Parking

    private func makeToken() -> RequestToken {
        nextRequestToken += 1
        return RequestToken(nextRequestToken)
    }

    /// Delivers `completions` to their parked requests and returns the one for `token`,
    /// suspending until it arrives when the coordinator answers it later.
    /// Nil when the broker shuts down first.
    private func awaitCompletion(of token: RequestToken, in completions: [GroupCompletion]) async -> GroupCompletion.Response? {
        var mine: GroupCompletion.Response?
        for completion in completions {
            if completion.token == token { mine = completion.response } else { resume(completion) }
        }
        if let mine { return mine }
        guard !isShutDown else { return nil }
        return await withCheckedContinuation { continuation in
            parkedGroupRequests[token] = continuation
        }
    }

    /// Answers parked requests with the coordinator's completions.
    func complete(_ completions: [GroupCompletion]) {
        for completion in completions { resume(completion) }
    }

    private func resume(_ completion: GroupCompletion) {
        parkedGroupRequests.removeValue(forKey: completion.token)?.resume(returning: completion.response)
    }
}
