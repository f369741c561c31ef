import LocalKafka
import NIOCore
import Testing

@Suite("Group coordinator: SyncGroup")
struct GroupSyncTests {
    /// Two members that have joined generation 1 of group "g" (first is the leader).
    private func joinedPair(_ harness: inout GroupHarness) throws -> (leader: MemberID, follower: MemberID, GenerationID) {
        let leaderToken = harness.join(client: "a")
        let leader = try #require(harness.joinResult(leaderToken)).memberID
        let followerToken = harness.join(client: "b")
        let rejoin = harness.join(member: leader, client: "a")
        let follower = try #require(harness.joinResult(followerToken))
        #expect(try #require(harness.joinResult(rejoin)).leader == leader)
        return (leader, follower.memberID, follower.generationID)
    }

    @Test func followersWaitForTheLeaderAndGetTheirAssignments() throws {
        var harness = GroupHarness()
        let (leader, follower, generation) = try joinedPair(&harness)

        let followerSync = harness.sync(generation: generation, member: follower)
        #expect(harness.syncResult(followerSync) == nil, "a follower's sync parks until the leader's")
        let leaderSync = harness.sync(generation: generation, member: leader, assignments: [leader: "p0", follower: "p1"])

        let leaderResult = try #require(harness.syncResult(leaderSync))
        let followerResult = try #require(harness.syncResult(followerSync))
        #expect(leaderResult.errorCode == .none)
        #expect(leaderResult.assignment.text == "p0")
        #expect(followerResult.assignment.text == "p1")
        #expect(followerResult.protocolName == "range")
        #expect(followerResult.protocolType == "consumer")
        #expect(harness.describe().state == .stable)

        // Syncing again in a Stable group returns the stored assignment at once.
        let again = harness.sync(generation: generation, member: follower)
        #expect(harness.syncResult(again)?.assignment.text == "p1")
    }

    @Test func membersLeftOutByTheLeaderGetAnEmptyAssignment() throws {
        var harness = GroupHarness()
        let (leader, follower, generation) = try joinedPair(&harness)
        let leaderSync = harness.sync(generation: generation, member: leader, assignments: [leader: "all", "stranger": "x"])
        let followerSync = harness.sync(generation: generation, member: follower)
        #expect(harness.syncResult(leaderSync)?.assignment.text == "all")
        #expect(harness.syncResult(followerSync)?.errorCode == GroupErrorCode.none)
        #expect(harness.syncResult(followerSync)?.assignment.readableBytes == 0)
    }

    @Test func wrongGenerationUnknownMemberAndUnknownGroupAreRejected() throws {
        var harness = GroupHarness()
        let (leader, _, generation) = try joinedPair(&harness)
        let stale = harness.sync(generation: GenerationID(generation.rawValue - 1), member: leader)
        #expect(harness.syncResult(stale)?.errorCode == .illegalGeneration)
        let stranger = harness.sync(generation: generation, member: "nobody")
        #expect(harness.syncResult(stranger)?.errorCode == .unknownMemberID)
        let noGroup = harness.sync("other", generation: generation, member: leader)
        #expect(harness.syncResult(noGroup)?.errorCode == .unknownMemberID)
        let emptyGroupID = harness.sync("", generation: generation, member: leader)
        #expect(harness.syncResult(emptyGroupID)?.errorCode == .invalidGroupID)
    }

    @Test func syncDuringPreparingRebalanceIsToldToRejoin() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2)
        _ = harness.join(client: "third")
        #expect(harness.describe().state == .preparingRebalance)
        let sync = harness.sync(generation: generation, member: members[1])
        #expect(harness.syncResult(sync)?.errorCode == .rebalanceInProgress)
    }

    @Test func parkedSyncIsReleasedWhenARebalanceStarts() throws {
        var harness = GroupHarness()
        let (_, follower, generation) = try joinedPair(&harness)
        let followerSync = harness.sync(generation: generation, member: follower)
        #expect(harness.syncResult(followerSync) == nil)
        _ = harness.join(client: "late")
        #expect(harness.syncResult(followerSync)?.errorCode == .rebalanceInProgress)
        #expect(harness.describe().state == .preparingRebalance)
    }

    @Test func leaderThatNeverSyncsIsRemovedAfterTheRebalanceTimeout() throws {
        var harness = GroupHarness()
        let (leader, follower, generation) = try joinedPair(&harness)
        let followerSync = harness.sync(generation: generation, member: follower)
        // The leader stays alive (heartbeats) but never sends its SyncGroup.
        for _ in 0..<3 {
            harness.advance(by: .seconds(8))
            #expect(harness.heartbeat(generation: generation, member: leader) == .none)
        }
        harness.advance(by: .seconds(5))
        #expect(harness.syncResult(followerSync) == nil)
        harness.advance(by: .seconds(1))
        #expect(harness.syncResult(followerSync)?.errorCode == .rebalanceInProgress)
        #expect(!harness.describe().members.map(\.memberID).contains(leader))
        #expect(harness.describe().state == .preparingRebalance)
        // The follower rejoins and becomes the leader of the next generation.
        let rejoin = harness.join(member: follower, client: "b")
        let result = try #require(harness.joinResult(rejoin))
        #expect(result.leader == follower)
        #expect(result.generationID == GenerationID(generation.rawValue + 1))
    }

    @Test func repeatedSyncWhileParkedAnswersTheEarlierOne() throws {
        var harness = GroupHarness()
        let (leader, follower, generation) = try joinedPair(&harness)
        let first = harness.sync(generation: generation, member: follower)
        let second = harness.sync(generation: generation, member: follower)
        #expect(harness.syncResult(first)?.errorCode == .rebalanceInProgress)
        _ = harness.sync(generation: generation, member: leader, assignments: [follower: "p"])
        #expect(harness.syncResult(second)?.assignment.text == "p")
    }
}
