import LocalKafka
import NIOCore
import Testing

@Suite("Group coordinator: static membership")
struct GroupStaticMembershipTests {
    /// A Stable group of a static leader ("i-0") and a static follower ("i-1").
    private func staticGroup(_ harness: inout GroupHarness) throws -> (MemberID, MemberID, GenerationID) {
        let leaderToken = harness.join(client: "a", instance: "i-0")
        let leader = try #require(harness.joinResult(leaderToken)).memberID
        let followerToken = harness.join(client: "b", instance: "i-1")
        _ = harness.join(member: leader, client: "a", instance: "i-0")
        let joined = try #require(harness.joinResult(followerToken))
        let generation = joined.generationID
        let leaderSync = harness.sync(
            generation: generation, member: leader, instance: "i-0", assignments: [leader: "p0", joined.memberID: "p1"])
        let followerSync = harness.sync(generation: generation, member: joined.memberID, instance: "i-1")
        #expect(harness.syncResult(leaderSync)?.assignment.text == "p0")
        #expect(harness.syncResult(followerSync)?.assignment.text == "p1")
        return (leader, joined.memberID, generation)
    }

    @Test func restartedStaticMemberReplacesItsOldIDWithoutRebalance() throws {
        var harness = GroupHarness()
        let (leader, follower, generation) = try staticGroup(&harness)

        let restart = harness.join(client: "b", instance: "i-1")
        let result = try #require(harness.joinResult(restart))
        #expect(result.errorCode == .none)
        #expect(result.memberID != follower)
        #expect(result.generationID == generation)
        #expect(result.leader == leader)
        #expect(result.members.isEmpty)
        #expect(harness.describe().state == .stable)

        // The old incarnation is fenced everywhere.
        #expect(harness.heartbeat(generation: generation, member: follower, instance: "i-1") == .fencedInstanceID)
        let oldSync = harness.sync(generation: generation, member: follower, instance: "i-1")
        #expect(harness.syncResult(oldSync)?.errorCode == .fencedInstanceID)
        let oldJoin = harness.join(member: follower, client: "b", instance: "i-1")
        #expect(harness.joinResult(oldJoin)?.errorCode == .fencedInstanceID)
        #expect(harness.validateCommit(generation: generation, member: follower, instance: "i-1") == .fencedInstanceID)
        let oldLeave = harness.leave([LeavingMember(memberID: follower, groupInstanceID: "i-1")])
        #expect(oldLeave.members.map(\.errorCode) == [.fencedInstanceID])

        // The new incarnation keeps the assignment.
        let newSync = harness.sync(generation: generation, member: result.memberID, instance: "i-1")
        #expect(harness.syncResult(newSync)?.assignment.text == "p1")
        #expect(harness.heartbeat(generation: generation, member: leader, instance: "i-0") == .none)
    }

    @Test func restartedStaticLeaderIsNotToldToReassign() throws {
        var harness = GroupHarness()
        let (leader, _, generation) = try staticGroup(&harness)
        let restart = harness.join(client: "a", instance: "i-0")
        let result = try #require(harness.joinResult(restart))
        #expect(result.leader == leader, "the old id is reported so the new incarnation does not assign")
        #expect(result.memberID != leader)
        #expect(result.members.isEmpty)
        #expect(harness.describe().state == .stable)
        let sync = harness.sync(generation: generation, member: result.memberID, instance: "i-0")
        #expect(harness.syncResult(sync)?.assignment.text == "p0")
    }

    @Test func staticRejoinFencesTheOldParkedJoin() throws {
        var harness = GroupHarness()
        let (leader, follower, _) = try staticGroup(&harness)
        let parked = harness.join(member: follower, client: "b", instance: "i-1", protocols: [("range", "new")])
        #expect(harness.joinResult(parked) == nil)
        let restart = harness.join(client: "b", instance: "i-1", protocols: [("range", "new")])
        #expect(harness.joinResult(parked)?.errorCode == .fencedInstanceID)
        #expect(harness.joinResult(restart) == nil)
        _ = harness.join(member: leader, client: "a", instance: "i-0")
        let result = try #require(harness.joinResult(restart))
        #expect(result.errorCode == .none)
        #expect(harness.describe().members.count == 2)
    }

    @Test func staticRejoinThatKeepsTheProtocolChoiceDoesNotRebalance() throws {
        var harness = GroupHarness()
        let (_, _, generation) = try staticGroup(&harness)
        let restart = harness.join(client: "b", instance: "i-1", protocols: [("roundrobin", "x"), ("range", "x")])
        // Candidates (supported by all): range only, so the choice cannot change.
        #expect(harness.joinResult(restart)?.generationID == generation)
        #expect(harness.describe().state == .stable)
    }

    @Test func staticRejoinThatChangesTheProtocolChoiceRebalances() throws {
        var harness = GroupHarness()
        let both = [("range", "m"), ("roundrobin", "m")]
        let reversed = [("roundrobin", "m"), ("range", "m")]
        // Three static members; votes range, roundrobin, range: "range" wins.
        var tokens: [RequestToken] = []
        var ids: [MemberID] = []
        for (index, protocols) in [both, reversed, both].enumerated() {
            tokens.append(harness.join(client: "c\(index)", instance: GroupInstanceID("i-\(index)"), protocols: protocols))
            for (position, id) in ids.enumerated() {
                tokens[position] = harness.join(
                    member: id, client: "c\(position)", instance: GroupInstanceID("i-\(position)"),
                    protocols: position == 1 ? reversed : both)
            }
            ids.append(try #require(harness.joinResult(tokens[index])).memberID)
        }
        let leaderResult = try #require(harness.joinResult(tokens[0]))
        #expect(leaderResult.protocolName == "range")
        let generation = leaderResult.generationID
        var assignments: [MemberID: String] = [:]
        for id in ids { assignments[id] = "p" }
        _ = harness.sync(generation: generation, member: ids[0], instance: "i-0", assignments: assignments)
        #expect(harness.describe().state == .stable)

        // The third member restarts preferring roundrobin: votes now favour roundrobin.
        let restart = harness.join(client: "c2", instance: "i-2", protocols: reversed)
        #expect(harness.joinResult(restart) == nil, "the restarted member waits for the rebalance")
        #expect(harness.describe().state == .preparingRebalance)
        #expect(harness.heartbeat(generation: generation, member: ids[2], instance: "i-2") == .fencedInstanceID)
    }

    @Test func staticMemberThatDoesNotRejoinStaysUntilItsSessionExpires() throws {
        var harness = GroupHarness()
        let (leader, follower, generation) = try staticGroup(&harness)
        let rejoin = harness.join(member: leader, client: "a", instance: "i-0", session: .seconds(60))
        // The follower keeps heartbeating but does not rejoin within the 30 s rebalance timeout.
        for _ in 0..<3 {
            harness.advance(by: .seconds(8))
            #expect(harness.heartbeat(generation: generation, member: follower, instance: "i-1") == .rebalanceInProgress)
        }
        harness.advance(by: .seconds(6))
        let result = try #require(harness.joinResult(rejoin))
        #expect(result.members.map(\.memberID) == [leader, follower], "static members survive a rebalance timeout")
        harness.advance(by: .seconds(10))
        #expect(harness.describe().members.map(\.memberID) == [leader], "but not their session timeout")
    }
}
