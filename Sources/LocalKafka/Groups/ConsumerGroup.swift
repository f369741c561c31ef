import Logging
import NIOCore

/// The state of one consumer group and its rebalance machinery (Kafka's GroupMetadata together
/// with the delayed join/sync operations that Kafka keeps in purgatories).
///
/// Every event takes the current instant and appends answers to parked requests to a
/// completions list; nothing here performs I/O.
struct ConsumerGroup: Sendable {
    /// The first rebalance of an empty group waits `delay` and, while new members keep coming,
    /// again `delay` until `remaining` is used up (Kafka's InitialDelayedJoin).
    struct InitialJoinDelay: Sendable {
        var delay: Duration
        var remaining: Duration
        var newMemberAdded = false
    }

    let id: GroupID
    let configuration: GroupCoordinatorConfiguration
    var logger: Logger

    var state: GroupState = .empty
    var generation = GenerationID(0)
    /// Set by the first member; kept while the group is empty (as Kafka).
    var protocolType: String?
    /// The protocol selected for the current generation; nil while the group is empty.
    var protocolName: String?
    var leader: MemberID?
    var members: [MemberID: GroupMember] = [:]
    /// Join order: leader re-election and response order follow it, so behaviour never depends
    /// on hash order.
    var memberOrder: [MemberID] = []
    var staticMembers: [GroupInstanceID: MemberID] = [:]
    /// Members told `MEMBER_ID_REQUIRED` that have not joined with their id yet, with the
    /// instant they are forgotten.
    var pendingMembers: [MemberID: ContinuousClock.Instant] = [:]
    /// Members that got the current generation's JoinGroup answer but have not synced yet.
    var pendingSyncMembers: Set<MemberID> = []

    /// While PreparingRebalance: when the join completes with whoever has rejoined.
    var joinDeadline: ContinuousClock.Instant?
    var initialJoinDelay: InitialJoinDelay?
    /// While pending syncs remain: when the members that did not sync are removed.
    var syncDeadline: ContinuousClock.Instant?

    init(id: GroupID, configuration: GroupCoordinatorConfiguration, logger: Logger) {
        self.id = id
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "group"] = "\(id)"
        self.logger = logger
    }

    /// The members in join order.
    var orderedMembers: [GroupMember] { memberOrder.compactMap { members[$0] } }

    /// The longest rebalance timeout of any member: how long a rebalance may wait.
    var rebalanceTimeout: Duration {
        members.values.map(\.rebalanceTimeout).max() ?? .zero
    }

    /// The earliest instant at which `advance(to:)` has something to do.
    var nextDeadline: ContinuousClock.Instant? {
        var deadlines = Array(pendingMembers.values)
        deadlines.append(contentsOf: members.values.compactMap(\.sessionDeadline))
        if state == .preparingRebalance, let joinDeadline { deadlines.append(joinDeadline) }
        if let syncDeadline { deadlines.append(syncDeadline) }
        return deadlines.min()
    }

    // MARK: Membership

    /// Whether a member with these protocols may be in this group: the first member sets the
    /// protocol type; later ones must match it and share a protocol with every member.
    func supports(protocolType: String, protocols: [GroupProtocol]) -> Bool {
        if state == .empty {
            return !protocolType.isEmpty && !protocols.isEmpty
        }
        guard protocolType == self.protocolType else { return false }
        return protocols.contains { candidate in
            members.values.allSatisfy { $0.supports(candidate.name) }
        }
    }

    /// True when `groupInstanceID` belongs to a static member whose current id is not `memberID`.
    func isFenced(memberID: MemberID, groupInstanceID: GroupInstanceID?) -> Bool {
        guard let groupInstanceID, let current = staticMembers[groupInstanceID] else { return false }
        return current != memberID
    }

    func staticMemberID(_ groupInstanceID: GroupInstanceID) -> MemberID? {
        staticMembers[groupInstanceID]
    }

    func isPending(_ memberID: MemberID) -> Bool { pendingMembers[memberID] != nil }

    mutating func addPendingMember(_ memberID: MemberID, until deadline: ContinuousClock.Instant) {
        pendingMembers[memberID] = deadline
    }

    mutating func removePendingMember(_ memberID: MemberID) {
        pendingMembers[memberID] = nil
    }

    mutating func add(_ member: GroupMember) {
        if members.isEmpty { protocolType = member.protocolType }
        if leader == nil { leader = member.id }
        members[member.id] = member
        memberOrder.append(member.id)
        if let instance = member.groupInstanceID { staticMembers[instance] = member.id }
    }

    /// Forgets a member, answering its parked requests with `UNKNOWN_MEMBER_ID` so no request
    /// is left waiting forever, and hands leadership to the next member in join order.
    mutating func remove(_ memberID: MemberID, into completions: inout [GroupCompletion]) {
        guard let member = members.removeValue(forKey: memberID) else { return }
        if let token = member.parkedJoin {
            completions.append(.init(token: token, response: .join(.failure(memberID: .unknown, .unknownMemberID))))
        }
        if let token = member.parkedSync {
            completions.append(.init(token: token, response: .sync(.failure(.unknownMemberID))))
        }
        memberOrder.removeAll { $0 == memberID }
        markSynced(memberID)
        if let instance = member.groupInstanceID, staticMembers[instance] == memberID {
            staticMembers[instance] = nil
        }
        if leader == memberID { leader = memberOrder.first }
    }

    mutating func updateMember(_ memberID: MemberID, _ body: (inout GroupMember) -> Void) {
        guard var member = members[memberID] else { return }
        body(&member)
        members[memberID] = member
    }

    /// Gives a static member a new member id, fencing requests parked under the old one.
    mutating func replaceStaticMember(
        _ groupInstanceID: GroupInstanceID, oldID: MemberID, newID: MemberID,
        into completions: inout [GroupCompletion]
    ) {
        guard var member = members.removeValue(forKey: oldID) else { return }
        if let token = member.parkedJoin {
            completions.append(.init(token: token, response: .join(.failure(memberID: oldID, .fencedInstanceID))))
            member.parkedJoin = nil
        }
        if let token = member.parkedSync {
            completions.append(.init(token: token, response: .sync(.failure(.fencedInstanceID))))
            member.parkedSync = nil
        }
        member.id = newID
        members[newID] = member
        memberOrder = memberOrder.map { $0 == oldID ? newID : $0 }
        if leader == oldID { leader = newID }
        if pendingSyncMembers.remove(oldID) != nil { pendingSyncMembers.insert(newID) }
        staticMembers[groupInstanceID] = newID
    }

    // MARK: Protocol and generation

    /// The protocol every member supports that most members prefer; ties go to the protocol
    /// voted for first in join order (so usually the leader's choice). Kafka breaks ties by hash
    /// order; this is the deterministic equivalent.
    func selectProtocol() -> String? {
        let all = orderedMembers
        guard let first = all.first else { return nil }
        let candidates = Set(first.protocols.map(\.name).filter { name in all.allSatisfy { $0.supports(name) } })
        var votes: [String: Int] = [:]
        var firstVoted: [String] = []
        for member in all {
            guard let vote = member.vote(among: candidates) else { continue }
            if votes[vote] == nil { firstVoted.append(vote) }
            votes[vote, default: 0] += 1
        }
        var best: String?
        for name in firstVoted where best.map({ votes[name, default: 0] > votes[$0, default: 0] }) ?? true {
            best = name
        }
        return best
    }

    /// Every member with its metadata for the selected protocol, as the leader receives them.
    func currentMemberMetadata() -> [JoinedMember] {
        orderedMembers.map {
            JoinedMember(memberID: $0.id, groupInstanceID: $0.groupInstanceID, metadata: $0.metadata(for: protocolName))
        }
    }

    /// A successful join answer in the current generation; the member list goes to the leader
    /// only, and only when `includeMembers` (the leader must not reassign when no rebalance ran).
    func joinResult(for memberID: MemberID, includeMembers: Bool = true) -> JoinResult {
        JoinResult(
            errorCode: .none, generationID: generation, protocolType: protocolType, protocolName: protocolName,
            leader: leader ?? .unknown, memberID: memberID,
            members: includeMembers && leader == memberID ? currentMemberMetadata() : [])
    }

    mutating func transition(to newState: GroupState) {
        logger.debug("group state \(state.rawValue) -> \(newState.rawValue)")
        state = newState
    }

    mutating func markSynced(_ memberID: MemberID) {
        pendingSyncMembers.remove(memberID)
        if pendingSyncMembers.isEmpty { syncDeadline = nil }
    }
}
