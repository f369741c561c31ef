import LocalKafka
import NIOCore
import Testing

@Suite("Group coordinator: offset commit validation, describe, list, delete")
struct GroupAdministrationTests {
    @Test func standaloneCommitToUnknownGroupCreatesAnEmptyGroup() {
        var harness = GroupHarness()
        #expect(harness.validateCommit("offsets-only", generation: .unknown, member: .unknown) == nil)
        #expect(harness.coordinator.list() == [GroupListing(groupID: "offsets-only", protocolType: "", state: .empty)])
        #expect(harness.validateCommit("offsets-only", generation: .unknown, member: .unknown) == nil)
    }

    @Test func commitClaimingAGenerationOfAnUnknownGroupIsIllegal() {
        var harness = GroupHarness()
        #expect(harness.validateCommit("nothing", generation: GenerationID(3), member: "m") == .illegalGeneration)
        #expect(harness.describe("nothing").state == .dead)
    }

    @Test func commitsAgainstAGroupWithMembers() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2)
        #expect(harness.validateCommit(generation: generation, member: members[1]) == nil)
        #expect(harness.validateCommit(generation: .unknown, member: .unknown) == .unknownMemberID, "standalone commit to a live group")
        #expect(harness.validateCommit(generation: GenerationID(generation.rawValue - 1), member: members[1]) == .illegalGeneration)
        #expect(harness.validateCommit(generation: generation, member: "ghost") == .unknownMemberID)

        // PreparingRebalance: members may still commit the offsets of the generation they had.
        let newcomer = harness.join(client: "new")
        #expect(harness.validateCommit(generation: generation, member: members[1]) == nil)

        // CompletingRebalance: the new generation exists but assignments have not arrived.
        _ = harness.join(member: members[0])
        _ = harness.join(member: members[1])
        let next = try #require(harness.joinResult(newcomer)).generationID
        #expect(harness.describe().state == .completingRebalance)
        #expect(harness.validateCommit(generation: next, member: members[1]) == .rebalanceInProgress)
        #expect(harness.validateCommit(generation: generation, member: members[1]) == .illegalGeneration)
    }

    @Test func emptiedGroupAcceptsStandaloneCommitsAgain() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 1)
        _ = harness.leave([LeavingMember(memberID: members[0])])
        #expect(harness.validateCommit(generation: .unknown, member: .unknown) == nil)
    }

    @Test func describeReportsStableGroupWithMetadataAndAssignments() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2)
        let description = harness.describe()
        #expect(description.errorCode == .none)
        #expect(description.state == .stable)
        #expect(description.protocolType == "consumer")
        #expect(description.protocolName == "range")
        #expect(description.generationID == generation)
        #expect(description.members.map(\.memberID) == members)
        #expect(description.members.map(\.clientID) == ["c0", "c1"])
        #expect(description.members.map(\.clientHost) == ["/127.0.0.1", "/127.0.0.1"])
        #expect(description.members.map(\.metadata.text) == ["meta", "meta"])
        #expect(description.members.map(\.assignment.text) == ["a-0", "a-1"])
    }

    @Test func describeHidesMetadataWhileRebalancing() throws {
        var harness = GroupHarness()
        _ = try harness.stableGroup(count: 1)
        _ = harness.join(client: "new")
        let description = harness.describe()
        #expect(description.state == .preparingRebalance)
        #expect(description.protocolName == "")
        #expect(description.members.count == 2)
        #expect(description.members.allSatisfy { $0.metadata.readableBytes == 0 && $0.assignment.readableBytes == 0 })
    }

    @Test func describeUnknownGroupIsDead() {
        let harness = GroupHarness()
        let description = harness.describe("missing")
        #expect(description.errorCode == .none)
        #expect(description.state == .dead)
        #expect(description.members.isEmpty)
        #expect(description.protocolType == "")
        #expect(GroupState.dead.rawValue == "Dead")
    }

    @Test func listShowsEveryGroupInOrderWithItsState() throws {
        var harness = GroupHarness()
        _ = try harness.stableGroup("b-group", count: 1)
        _ = harness.join("a-group")
        harness.coordinator.restoreGroup("c-group")
        #expect(
            harness.coordinator.list() == [
                GroupListing(groupID: "a-group", protocolType: "consumer", state: .completingRebalance),
                GroupListing(groupID: "b-group", protocolType: "consumer", state: .stable),
                GroupListing(groupID: "c-group", protocolType: "", state: .empty),
            ])
    }

    @Test func onlyEmptyGroupsCanBeDeleted() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 1)
        #expect(harness.coordinator.deleteGroup("g") == .nonEmptyGroup)
        #expect(harness.coordinator.deleteGroup("unknown") == .groupIDNotFound)
        #expect(harness.coordinator.deleteGroup("") == .invalidGroupID)
        _ = harness.leave([LeavingMember(memberID: members[0])])
        #expect(harness.coordinator.deleteGroup("g") == .none)
        #expect(harness.describe().state == .dead)
        #expect(harness.coordinator.list().isEmpty)
        // The id is free again: a new group starts over at generation 1.
        let token = harness.join()
        #expect(harness.joinResult(token)?.generationID == GenerationID(1))
    }

    @Test func errorCodesHaveKafkaWireValues() {
        let expected: [GroupErrorCode: Int16] = [
            .none: 0, .unknownServerError: -1, .coordinatorNotAvailable: 15, .illegalGeneration: 22,
            .inconsistentGroupProtocol: 23, .invalidGroupID: 24, .unknownMemberID: 25, .invalidSessionTimeout: 26,
            .rebalanceInProgress: 27, .nonEmptyGroup: 68, .groupIDNotFound: 69, .memberIDRequired: 79,
            .fencedInstanceID: 82,
        ]
        #expect(expected.count == GroupErrorCode.allCases.count)
        for (code, value) in expected { #expect(code.rawValue == value, "\(code.name)") }
    }
}
