import LocalKafka
import NIOCore
import Testing

/// Drives a `GroupCoordinator` like the broker would: hands out request tokens, keeps a manual
/// clock, and records every completion, failing the test if a token completes twice.
struct GroupHarness {
    var coordinator: GroupCoordinator
    private(set) var now: ContinuousClock.Instant
    private var lastToken: UInt64 = 0
    private(set) var answers: [RequestToken: GroupCompletion.Response] = [:]
    private(set) var issued: Set<RequestToken> = []

    init(configuration: GroupCoordinatorConfiguration = .init()) {
        coordinator = GroupCoordinator(configuration: configuration)
        now = ContinuousClock.now
    }

    /// Moves the clock and fires due timers.
    @discardableResult
    mutating func advance(by duration: Duration) -> [GroupCompletion] {
        now = now + duration
        return record(coordinator.tick(now: now))
    }

    /// Requests that have not been answered yet.
    var parked: Set<RequestToken> { issued.subtracting(answers.keys) }

    mutating func join(
        _ group: GroupID = "g", member: MemberID = .unknown, client: String = "client",
        instance: GroupInstanceID? = nil, protocols: [(String, String)] = [("range", "meta")],
        protocolType: String = "consumer", session: Duration = .seconds(10), rebalance: Duration = .seconds(30),
        requiresKnownMemberID: Bool = false
    ) -> RequestToken {
        let token = newToken()
        let request = JoinRequest(
            groupID: group, memberID: member, groupInstanceID: instance, clientID: client, clientHost: "/127.0.0.1",
            sessionTimeout: session, rebalanceTimeout: rebalance, protocolType: protocolType,
            protocols: protocols.map { GroupProtocol(name: $0.0, metadata: ByteBuffer(string: $0.1)) },
            requiresKnownMemberID: requiresKnownMemberID)
        record(coordinator.join(request, token: token, now: now))
        return token
    }

    mutating func sync(
        _ group: GroupID = "g", generation: GenerationID, member: MemberID, instance: GroupInstanceID? = nil,
        assignments: [MemberID: String] = [:]
    ) -> RequestToken {
        let token = newToken()
        let request = SyncRequest(
            groupID: group, generationID: generation, memberID: member, groupInstanceID: instance,
            assignments: assignments.map { MemberAssignment(memberID: $0.key, assignment: ByteBuffer(string: $0.value)) })
        record(coordinator.sync(request, token: token, now: now))
        return token
    }

    mutating func heartbeat(
        _ group: GroupID = "g", generation: GenerationID, member: MemberID, instance: GroupInstanceID? = nil
    ) -> GroupErrorCode {
        coordinator.heartbeat(groupID: group, generationID: generation, memberID: member, groupInstanceID: instance, now: now)
    }

    mutating func leave(_ members: [LeavingMember], group: GroupID = "g") -> LeaveOutcome {
        let outcome = coordinator.leave(groupID: group, members: members, now: now)
        record(outcome.completions)
        return outcome
    }

    mutating func validateCommit(
        _ group: GroupID = "g", generation: GenerationID, member: MemberID, instance: GroupInstanceID? = nil
    ) -> GroupErrorCode? {
        coordinator.validateOffsetCommit(
            groupID: group, generationID: generation, memberID: member, groupInstanceID: instance, now: now)
    }

    func joinResult(_ token: RequestToken) -> JoinResult? {
        guard case .join(let result) = answers[token] else { return nil }
        return result
    }

    func syncResult(_ token: RequestToken) -> SyncResult? {
        guard case .sync(let result) = answers[token] else { return nil }
        return result
    }

    func describe(_ group: GroupID = "g") -> GroupDescription { coordinator.describe(groupID: group) }

    /// Forms a Stable group of `count` members (first is leader) whose assignments are
    /// "a-<index>"; returns their ids and the generation.
    mutating func stableGroup(_ group: GroupID = "g", count: Int, session: Duration = .seconds(10)) throws -> (
        members: [MemberID], generation: GenerationID
    ) {
        var tokens: [RequestToken] = []
        var members: [MemberID] = []
        for index in 0..<count {
            let token = join(group, member: .unknown, client: "c\(index)", session: session)
            tokens.append(token)
            if index > 0 {
                // Existing members rejoin as they would after a REBALANCE_IN_PROGRESS heartbeat.
                for (position, memberID) in members.enumerated() {
                    tokens[position] = join(group, member: memberID, client: "c\(position)", session: session)
                }
            }
            let result = try #require(joinResult(token))
            members.append(result.memberID)
        }
        let results = try tokens.map { try #require(joinResult($0)) }
        let generation = results[0].generationID
        var assignments: [MemberID: String] = [:]
        for (index, memberID) in members.enumerated() { assignments[memberID] = "a-\(index)" }
        var syncs = [sync(group, generation: generation, member: members[0], assignments: assignments)]
        for memberID in members.dropFirst() { syncs.append(sync(group, generation: generation, member: memberID)) }
        for token in syncs { #expect(syncResult(token)?.errorCode == GroupErrorCode.none) }
        #expect(describe(group).state == .stable)
        return (members, generation)
    }

    private mutating func newToken() -> RequestToken {
        lastToken += 1
        let token = RequestToken(lastToken)
        issued.insert(token)
        return token
    }

    @discardableResult
    private mutating func record(_ completions: [GroupCompletion]) -> [GroupCompletion] {
        for completion in completions {
            #expect(issued.contains(completion.token), "completion for a token never issued: \(completion.token)")
            #expect(answers[completion.token] == nil, "token \(completion.token) completed twice")
            answers[completion.token] = completion.response
        }
        return completions
    }
}

extension ByteBuffer {
    var text: String { String(buffer: self) }
}
