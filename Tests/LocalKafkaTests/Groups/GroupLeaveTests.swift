import LocalKafka
import NIOCore
import Testing

@Suite("Group coordinator: LeaveGroup")
struct GroupLeaveTests {
    @Test func leavingMemberTriggersRebalanceOfTheRest() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2)
        let outcome = harness.leave([LeavingMember(memberID: members[1])])
        #expect(outcome.errorCode == .none)
        #expect(outcome.members == [MemberLeaveResult(memberID: members[1], groupInstanceID: nil, errorCode: .none)])
        #expect(outcome.singleMemberErrorCode == .none)
        #expect(harness.heartbeat(generation: generation, member: members[0]) == .rebalanceInProgress)
        let rejoin = harness.join(member: members[0])
        #expect(harness.joinResult(rejoin)?.members.map(\.memberID) == [members[0]])
    }

    @Test func lastMemberLeavingEmptiesTheGroup() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 1)
        _ = harness.leave([LeavingMember(memberID: members[0])])
        let description = harness.describe()
        #expect(description.state == .empty)
        #expect(description.members.isEmpty)
        #expect(description.generationID == GenerationID(generation.rawValue + 1))
        #expect(harness.coordinator.nextDeadline() == nil)
    }

    @Test func leaveCompletesARebalanceWaitingOnlyForTheLeaver() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 2)
        let rejoin = harness.join(member: members[0])
        #expect(harness.joinResult(rejoin) == nil)
        let outcome = harness.leave([LeavingMember(memberID: members[1])])
        #expect(outcome.completions.map(\.token) == [rejoin])
        #expect(harness.joinResult(rejoin)?.members.map(\.memberID) == [members[0]])
    }

    @Test func batchLeaveReportsEachMember() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 3)
        let outcome = harness.leave([
            LeavingMember(memberID: members[2]),
            LeavingMember(memberID: "ghost"),
            LeavingMember(memberID: .unknown, groupInstanceID: "no-such-instance"),
            LeavingMember(memberID: members[1]),
        ])
        #expect(outcome.errorCode == .none)
        #expect(outcome.members.map(\.errorCode) == [.none, .unknownMemberID, .unknownMemberID, .none])
        #expect(outcome.singleMemberErrorCode == .unknownMemberID)
        #expect(harness.describe().members.map(\.memberID) == [members[0]])
    }

    @Test func leaveFromUnknownOrInvalidGroup() {
        var harness = GroupHarness()
        let unknown = harness.leave([LeavingMember(memberID: "m")], group: "nothing")
        #expect(unknown.errorCode == .none)
        #expect(unknown.members.map(\.errorCode) == [.unknownMemberID])
        #expect(unknown.singleMemberErrorCode == .unknownMemberID)
        let invalid = harness.leave([LeavingMember(memberID: "m")], group: "")
        #expect(invalid.errorCode == .invalidGroupID)
        #expect(invalid.singleMemberErrorCode == .invalidGroupID)
    }

    @Test func removedMembersParkedRequestsAreAnswered() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 2)
        let staticJoin = harness.join(client: "s", instance: "instance-1")
        #expect(harness.joinResult(staticJoin) == nil)
        // An administrator removes the static member while its JoinGroup is parked.
        let outcome = harness.leave([LeavingMember(memberID: .unknown, groupInstanceID: "instance-1")])
        #expect(outcome.members.map(\.errorCode) == [.none])
        #expect(harness.joinResult(staticJoin)?.errorCode == .unknownMemberID)
        #expect(harness.describe().members.map(\.memberID) == members)
    }

    @Test func pendingMemberCanLeave() throws {
        var harness = GroupHarness()
        let token = harness.join(requiresKnownMemberID: true)
        let pending = try #require(harness.joinResult(token)).memberID
        let outcome = harness.leave([LeavingMember(memberID: pending)])
        #expect(outcome.members.map(\.errorCode) == [.none])
        #expect(harness.coordinator.nextDeadline() == nil)
    }
}
