import Logging
import NIOCore

/// The classic-protocol group coordinator of a single-node broker, as a pure state machine.
///
/// The broker owns one value, feeds it every group request and, whenever `nextDeadline()`
/// passes, a `tick(now:)`. JoinGroup and SyncGroup may be answered later than they arrive: each
/// carries a `RequestToken`, and every mutating call returns the completions that became ready,
/// the calling request's own answer included when it did not have to wait. A token absent from
/// the returned completions is parked and completes in a later call, exactly once.
///
/// Wire mapping (the server's part):
/// - JoinGroup v0 has no rebalance timeout: pass the session timeout. `requiresKnownMemberID`
///   is `version >= 4`. v0–v6 write `protocolName ?? ""`; `members` carry `groupInstanceID`
///   from v5. Error answers carry generation -1, empty leader and the request's member id
///   (the new id with `MEMBER_ID_REQUIRED`).
/// - SyncGroup v0–v3 write only the error code and the assignment bytes.
/// - LeaveGroup v0–v2: one `LeavingMember(memberID:)`, answer `singleMemberErrorCode`;
///   v3+: the batch, answer `errorCode` plus `members`.
/// - DescribeGroups: `describe(groupID:)` per requested id; ListGroups: `list()`.
/// - OffsetCommit v0 lacks generation and member: pass `.unknown` for both.
/// - Every `GroupErrorCode` raw value is the Kafka error code.
///
/// - Important: Not thread-safe; call it from one actor or event loop. Kafka connections expect
///   responses in request order, so while a JoinGroup or SyncGroup is parked the server must
///   hold back later responses on that connection.
public struct GroupCoordinator: Sendable {
    public let configuration: GroupCoordinatorConfiguration
    private let logger: Logger
    private var groups: [GroupID: ConsumerGroup] = [:]

    /// - Parameter logger: receives rebalances, joins, departures and expiries at `debug`, and
    ///   leader mistakes (members left without an assignment) at `warning`.
    public init(
        configuration: GroupCoordinatorConfiguration = .init(),
        logger: Logger = Logger(label: "LocalKafka.GroupCoordinator")
    ) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Handles a JoinGroup. A new group is created for a member without an id.
    public mutating func join(_ request: JoinRequest, token: RequestToken, now: ContinuousClock.Instant) -> [GroupCompletion] {
        func failure(_ code: GroupErrorCode) -> [GroupCompletion] {
            [GroupCompletion(token: token, response: .join(.failure(memberID: request.memberID, code)))]
        }
        guard !request.groupID.rawValue.isEmpty else { return failure(.invalidGroupID) }
        guard request.sessionTimeout >= configuration.minSessionTimeout,
            request.sessionTimeout <= configuration.maxSessionTimeout
        else {
            return failure(.invalidSessionTimeout)
        }
        var completions: [GroupCompletion] = []
        if groups[request.groupID] == nil {
            // A member that claims an id cannot belong to a group that does not exist.
            guard request.memberID.isUnknown else { return failure(.unknownMemberID) }
            groups[request.groupID] = makeGroup(request.groupID)
        }
        groups[request.groupID]?.join(request, token: token, now: now, into: &completions)
        return completions
    }

    /// Handles a SyncGroup. The leader's assignments complete the followers' parked syncs.
    public mutating func sync(_ request: SyncRequest, token: RequestToken, now: ContinuousClock.Instant) -> [GroupCompletion] {
        func failure(_ code: GroupErrorCode) -> [GroupCompletion] {
            [GroupCompletion(token: token, response: .sync(.failure(code)))]
        }
        guard !request.groupID.rawValue.isEmpty else { return failure(.invalidGroupID) }
        guard groups[request.groupID] != nil else { return failure(.unknownMemberID) }
        var completions: [GroupCompletion] = []
        groups[request.groupID]?.sync(request, token: token, now: now, into: &completions)
        return completions
    }

    /// Handles a Heartbeat: `none`, or the reason the member must rejoin
    /// (`REBALANCE_IN_PROGRESS`, `ILLEGAL_GENERATION`, `UNKNOWN_MEMBER_ID`, `FENCED_INSTANCE_ID`).
    public mutating func heartbeat(
        groupID: GroupID, generationID: GenerationID, memberID: MemberID, groupInstanceID: GroupInstanceID?,
        now: ContinuousClock.Instant
    ) -> GroupErrorCode {
        guard !groupID.rawValue.isEmpty else { return .invalidGroupID }
        guard groups[groupID] != nil else { return .unknownMemberID }
        return groups[groupID]?.heartbeat(
            generation: generationID, memberID: memberID, groupInstanceID: groupInstanceID, now: now) ?? .unknownMemberID
    }

    /// Handles a LeaveGroup (v0–v2: one member; v3+: a batch). Departures restart the rebalance
    /// or let a running one complete, so other requests' completions may come back too.
    public mutating func leave(groupID: GroupID, members leaving: [LeavingMember], now: ContinuousClock.Instant) -> LeaveOutcome {
        guard !groupID.rawValue.isEmpty else {
            return LeaveOutcome(errorCode: .invalidGroupID, members: [], completions: [])
        }
        var completions: [GroupCompletion] = []
        var results: [MemberLeaveResult] = []
        for member in leaving {
            let code = groups[groupID]?.leave(member, now: now, into: &completions) ?? .unknownMemberID
            results.append(MemberLeaveResult(memberID: member.memberID, groupInstanceID: member.groupInstanceID, errorCode: code))
        }
        return LeaveOutcome(errorCode: .none, members: results, completions: completions)
    }

    /// Fires the timers due at `now` (session expiry, rebalance and sync timeouts, the initial
    /// rebalance delay) and returns the completions they produced.
    public mutating func tick(now: ContinuousClock.Instant) -> [GroupCompletion] {
        var completions: [GroupCompletion] = []
        for groupID in groups.keys.sorted() {
            // A zero timeout can make one timer schedule another at `now`; a few rounds settle
            // those without letting a pathological group spin here.
            for _ in 0..<8 {
                guard let deadline = groups[groupID]?.nextDeadline, deadline <= now else { break }
                groups[groupID]?.advance(to: now, into: &completions)
            }
        }
        return completions
    }

    /// The earliest instant at which `tick(now:)` has work; nil when no timer runs.
    public func nextDeadline() -> ContinuousClock.Instant? {
        groups.values.compactMap(\.nextDeadline).min()
    }

    /// Checks an OffsetCommit's group fields; nil means the commit may proceed, else every
    /// partition in the request gets the returned error.
    ///
    /// A standalone commit (generation -1, empty member id, no instance id) is allowed only
    /// while the group has no members; it creates the group (Empty) if needed so the group is
    /// listed and described, as in Kafka. A member's commit restarts its session timer.
    public mutating func validateOffsetCommit(
        groupID: GroupID, generationID: GenerationID, memberID: MemberID, groupInstanceID: GroupInstanceID?,
        now: ContinuousClock.Instant
    ) -> GroupErrorCode? {
        if groups[groupID] == nil {
            // Kafka accepts an unknown group only for a commit that does not use group management.
            guard generationID.rawValue < 0 else { return .illegalGeneration }
            groups[groupID] = makeGroup(groupID)
        }
        return groups[groupID]?.validateOffsetCommit(
            generation: generationID, memberID: memberID, groupInstanceID: groupInstanceID, now: now)
    }

    /// Makes a group known in state Empty, e.g. at startup for groups whose committed offsets
    /// were loaded from disk. Does nothing if the group exists.
    public mutating func restoreGroup(_ groupID: GroupID) {
        if groups[groupID] == nil { groups[groupID] = makeGroup(groupID) }
    }

    /// Deletes an Empty group (DeleteGroups). On `none` the server also deletes its offsets.
    public mutating func deleteGroup(_ groupID: GroupID) -> GroupErrorCode {
        guard !groupID.rawValue.isEmpty else { return .invalidGroupID }
        guard let group = groups[groupID] else { return .groupIDNotFound }
        guard group.state == .empty else { return .nonEmptyGroup }
        groups[groupID] = nil
        logger.debug("deleted group", metadata: ["group": "\(groupID)"])
        return .none
    }

    /// DescribeGroups for one group. Unknown groups are `Dead` with no members.
    public func describe(groupID: GroupID) -> GroupDescription {
        guard let group = groups[groupID] else {
            return GroupDescription(
                errorCode: .none, groupID: groupID, state: .dead, protocolType: "", protocolName: "", members: [],
                generationID: .unknown)
        }
        let stable = group.state == .stable
        let members = group.orderedMembers.map { member in
            DescribedMember(
                memberID: member.id, groupInstanceID: member.groupInstanceID, clientID: member.clientID,
                clientHost: member.clientHost,
                metadata: stable ? member.metadata(for: group.protocolName) : ByteBuffer(),
                assignment: stable ? member.assignment : ByteBuffer())
        }
        return GroupDescription(
            errorCode: .none, groupID: groupID, state: group.state, protocolType: group.protocolType ?? "",
            protocolName: stable ? group.protocolName ?? "" : "", members: members, generationID: group.generation)
    }

    /// ListGroups: every known group, ordered by id.
    public func list() -> [GroupListing] {
        groups.keys.sorted().compactMap { id in
            groups[id].map { GroupListing(groupID: id, protocolType: $0.protocolType ?? "", state: $0.state) }
        }
    }

    private func makeGroup(_ id: GroupID) -> ConsumerGroup {
        ConsumerGroup(id: id, configuration: configuration, logger: logger)
    }
}
