import LocalKafka
import NIOCore
import Testing

@Suite("Group coordinator: JoinGroup")
struct GroupJoinTests {
    @Test func firstMemberOfNewGroupLeadsGenerationOne() throws {
        var harness = GroupHarness()
        #expect(harness.describe().state == .dead)
        let token = harness.join(client: "app", protocols: [("range", "sub-a")])
        let result = try #require(harness.joinResult(token))
        #expect(result.errorCode == .none)
        #expect(result.generationID == GenerationID(1))
        #expect(result.memberID.rawValue.hasPrefix("app-"))
        #expect(result.memberID.rawValue.count > "app-".count + 30)
        #expect(result.leader == result.memberID)
        #expect(result.protocolName == "range")
        #expect(result.protocolType == "consumer")
        #expect(result.members.map(\.memberID) == [result.memberID])
        #expect(result.members.first?.metadata.text == "sub-a")
        #expect(harness.describe().state == .completingRebalance)
    }

    @Test func memberIDRequiredHandsOutAnIDThenJoins() throws {
        var harness = GroupHarness()
        let first = harness.join(client: "app", requiresKnownMemberID: true)
        let required = try #require(harness.joinResult(first))
        #expect(required.errorCode == .memberIDRequired)
        #expect(required.memberID.rawValue.hasPrefix("app-"))
        #expect(required.generationID == .unknown)
        #expect(harness.describe().members.isEmpty)

        let second = harness.join(member: required.memberID, client: "app", requiresKnownMemberID: true)
        let joined = try #require(harness.joinResult(second))
        #expect(joined.errorCode == .none)
        #expect(joined.memberID == required.memberID)
        #expect(joined.leader == required.memberID)
    }

    @Test func pendingMemberThatNeverReturnsIsForgotten() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 1, session: .seconds(30))
        let pending = harness.join(client: "late", session: .seconds(10), requiresKnownMemberID: true)
        let pendingID = try #require(harness.joinResult(pending)).memberID
        // Pending members do not trigger a rebalance by themselves…
        #expect(harness.describe().state == .stable)
        // …but a rebalance waits for them (as in Kafka) until their session timeout.
        let rejoin = harness.join(member: members[0], session: .seconds(30))
        #expect(harness.joinResult(rejoin) == nil)
        harness.advance(by: .seconds(10))
        #expect(harness.joinResult(rejoin)?.members.map(\.memberID) == [members[0]])
        let late = harness.join(member: pendingID, client: "late")
        #expect(harness.joinResult(late)?.errorCode == .unknownMemberID)
        #expect(harness.describe().members.map(\.memberID) == [members[0]])
    }

    @Test func secondMemberTriggersRebalanceThatCompletesWhenAllRejoin() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 1)
        let leader = members[0]

        let newcomer = harness.join(client: "second")
        #expect(harness.joinResult(newcomer) == nil, "join parks until the existing member rejoins")
        #expect(harness.describe().state == .preparingRebalance)
        #expect(harness.heartbeat(generation: generation, member: leader) == .rebalanceInProgress)

        let rejoin = harness.join(member: leader)
        let leaderResult = try #require(harness.joinResult(rejoin))
        let newcomerResult = try #require(harness.joinResult(newcomer))
        #expect(leaderResult.generationID == GenerationID(2))
        #expect(newcomerResult.generationID == GenerationID(2))
        #expect(leaderResult.leader == leader)
        #expect(newcomerResult.leader == leader)
        #expect(leaderResult.members.map(\.memberID) == [leader, newcomerResult.memberID])
        #expect(newcomerResult.members.isEmpty, "only the leader gets the member list")
        #expect(harness.describe().state == .completingRebalance)
    }

    @Test func rebalanceTimeoutRemovesMembersThatDidNotRejoin() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 2, session: .seconds(60))
        let newcomer = harness.join(client: "third", rebalance: .seconds(30))
        let leaderRejoin = harness.join(member: members[0])
        #expect(harness.joinResult(leaderRejoin) == nil)

        harness.advance(by: .seconds(29))
        #expect(harness.joinResult(newcomer) == nil)
        harness.advance(by: .seconds(1))
        let leaderResult = try #require(harness.joinResult(leaderRejoin))
        let newcomerResult = try #require(harness.joinResult(newcomer))
        #expect(leaderResult.members.map(\.memberID) == [members[0], newcomerResult.memberID])
        #expect(!harness.describe().members.map(\.memberID).contains(members[1]))
        #expect(harness.heartbeat(generation: leaderResult.generationID, member: members[1]) == .unknownMemberID)
    }

    @Test func leadershipMovesWhenTheLeaderDoesNotRejoin() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 2, session: .seconds(60))
        let followerRejoin = harness.join(member: members[1], protocols: [("range", "changed")])
        harness.advance(by: .seconds(30))
        let result = try #require(harness.joinResult(followerRejoin))
        #expect(result.leader == members[1])
        #expect(result.members.map(\.memberID) == [members[1]])
        #expect(result.members.first?.metadata.text == "changed")
    }

    @Test func protocolIsTheOneMostMembersPreferAmongThoseAllSupport() throws {
        var harness = GroupHarness(configuration: .init(initialRebalanceDelay: .seconds(3)))
        let a = harness.join(client: "a", protocols: [("range", "a"), ("roundrobin", "a"), ("sticky", "a")])
        let b = harness.join(client: "b", protocols: [("roundrobin", "b"), ("range", "b"), ("sticky", "b")])
        let c = harness.join(client: "c", protocols: [("sticky", "c"), ("roundrobin", "c")])
        let d = harness.join(client: "d", protocols: [("roundrobin", "d"), ("sticky", "d")])
        // Candidates all support: roundrobin, sticky. Votes: a→roundrobin, b→roundrobin,
        // c→sticky, d→roundrobin.
        #expect(harness.joinResult(a) == nil)
        harness.advance(by: .seconds(3))
        #expect(harness.joinResult(a) == nil, "members joining during the initial delay extend it")
        harness.advance(by: .seconds(3))
        let results = try [a, b, c, d].map { try #require(harness.joinResult($0)) }
        #expect(results.allSatisfy { $0.protocolName == "roundrobin" })
        #expect(results[0].members.map(\.metadata.text) == ["a", "b", "c", "d"])
    }

    @Test func initialDelayIsCappedByTheRebalanceTimeout() throws {
        var harness = GroupHarness(configuration: .init(initialRebalanceDelay: .seconds(3)))
        let a = harness.join(client: "a", rebalance: .seconds(5))
        harness.advance(by: .seconds(2))
        _ = harness.join(client: "b", rebalance: .seconds(5))
        harness.advance(by: .seconds(1))
        #expect(harness.joinResult(a) == nil)
        // Remaining budget was 5 - 3 = 2 s: one extension of 2 s, then completion.
        harness.advance(by: .seconds(2))
        #expect(harness.joinResult(a)?.generationID == GenerationID(1))
    }

    @Test func invalidRequestsAreRejected() throws {
        var harness = GroupHarness()
        let token1 = harness.join("", client: "x")
        #expect(harness.joinResult(token1)?.errorCode == .invalidGroupID)
        let token2 = harness.join(session: .seconds(5))
        #expect(harness.joinResult(token2)?.errorCode == .invalidSessionTimeout)
        let token3 = harness.join(session: .seconds(1801))
        #expect(harness.joinResult(token3)?.errorCode == .invalidSessionTimeout)
        let token4 = harness.join(member: "ghost")
        #expect(harness.joinResult(token4)?.errorCode == .unknownMemberID)
        let token5 = harness.join(protocolType: "")
        #expect(harness.joinResult(token5)?.errorCode == .inconsistentGroupProtocol)
        let token6 = harness.join(protocols: [])
        #expect(harness.joinResult(token6)?.errorCode == .inconsistentGroupProtocol)
        #expect(harness.describe().state == .empty, "rejected joins leave no member behind")

        _ = try harness.stableGroup("h", count: 1)
        let otherType = harness.join("h", protocolType: "connect")
        #expect(harness.joinResult(otherType)?.errorCode == .inconsistentGroupProtocol)
        let noCommonProtocol = harness.join("h", protocols: [("sticky", "x")])
        #expect(harness.joinResult(noCommonProtocol)?.errorCode == .inconsistentGroupProtocol)
        #expect(harness.describe("h").state == .stable)
    }

    @Test func repeatedJoinWhileParkedAnswersTheEarlierOne() throws {
        var harness = GroupHarness()
        let (members, _) = try harness.stableGroup(count: 2)
        let first = harness.join(member: members[0])
        #expect(harness.joinResult(first) == nil)
        let second = harness.join(member: members[0])
        #expect(harness.joinResult(first)?.errorCode == .rebalanceInProgress)
        #expect(harness.joinResult(first)?.memberID == members[0])
        #expect(harness.joinResult(second) == nil)
        let follower = harness.join(member: members[1])
        #expect(harness.joinResult(second)?.errorCode == GroupErrorCode.none)
        #expect(harness.joinResult(follower)?.errorCode == GroupErrorCode.none)
    }

    @Test func followerRejoiningStableGroupUnchangedGetsCurrentGeneration() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2)
        let rejoin = harness.join(member: members[1])
        let result = try #require(harness.joinResult(rejoin))
        #expect(result.generationID == generation)
        #expect(result.leader == members[0])
        #expect(result.members.isEmpty)
        #expect(harness.describe().state == .stable)
    }

    @Test func leaderRejoiningStableGroupForcesRebalance() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2)
        let rejoin = harness.join(member: members[0])
        #expect(harness.joinResult(rejoin) == nil)
        #expect(harness.heartbeat(generation: generation, member: members[1]) == .rebalanceInProgress)
    }

    @Test func rejoinDuringCompletingRebalanceWithSameMetadataRepeatsTheAnswer() throws {
        var harness = GroupHarness()
        let token7 = harness.join()
        let first = try #require(harness.joinResult(token7))
        let token8 = harness.join(member: first.memberID)
        let again = try #require(harness.joinResult(token8))
        #expect(again == first)
        let changed = harness.join(member: first.memberID, protocols: [("range", "other")])
        #expect(harness.joinResult(changed)?.generationID == GenerationID(2))
    }
}
