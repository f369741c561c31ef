import LocalKafka
import NIOCore
import Testing

@Suite("Group coordinator: heartbeats and session expiry")
struct GroupLivenessTests {
    @Test func heartbeatRestartsTheSessionTimer() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 1, session: .seconds(10))
        harness.advance(by: .seconds(8))
        #expect(harness.heartbeat(generation: generation, member: members[0]) == .none)
        harness.advance(by: .seconds(8))
        #expect(harness.describe().members.count == 1, "16 s after the sync but 8 s after the heartbeat")
        #expect(harness.heartbeat(generation: generation, member: members[0]) == .none)
        harness.advance(by: .seconds(10))
        #expect(harness.describe().members.isEmpty)
        #expect(harness.describe().state == .empty)
        #expect(harness.describe().generationID == GenerationID(generation.rawValue + 1))
        #expect(harness.heartbeat(generation: generation, member: members[0]) == .unknownMemberID)
    }

    @Test func nextDeadlineTellsWhenToTick() throws {
        var harness = GroupHarness()
        #expect(harness.coordinator.nextDeadline() == nil)
        let start = harness.now
        _ = try harness.stableGroup(count: 1, session: .seconds(10))
        #expect(harness.coordinator.nextDeadline() == start + .seconds(10))
    }

    @Test func heartbeatErrors() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2)
        #expect(harness.heartbeat(generation: GenerationID(generation.rawValue + 1), member: members[0]) == .illegalGeneration)
        #expect(harness.heartbeat(generation: generation, member: "nobody") == .unknownMemberID)
        #expect(harness.heartbeat("elsewhere", generation: generation, member: members[0]) == .unknownMemberID)
        #expect(harness.heartbeat("", generation: generation, member: members[0]) == .invalidGroupID)
        _ = harness.join(client: "third")
        #expect(harness.heartbeat(generation: generation, member: members[1]) == .rebalanceInProgress)
    }

    @Test func expiredMemberIsRemovedAndTheOthersRebalance() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2, session: .seconds(10))
        harness.advance(by: .seconds(6))
        #expect(harness.heartbeat(generation: generation, member: members[0]) == .none)
        harness.advance(by: .seconds(5))
        #expect(harness.describe().members.map(\.memberID) == [members[0]])
        #expect(harness.heartbeat(generation: generation, member: members[0]) == .rebalanceInProgress)
        let rejoin = harness.join(member: members[0])
        let result = try #require(harness.joinResult(rejoin))
        #expect(result.generationID == GenerationID(generation.rawValue + 1))
        #expect(result.members.map(\.memberID) == [members[0]])
    }

    @Test func membersWaitingInARebalanceDoNotExpire() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 2, session: .seconds(10))
        let rejoin = harness.join(member: members[0], rebalance: .seconds(60))
        for _ in 0..<3 {
            harness.advance(by: .seconds(8))
            #expect(harness.heartbeat(generation: generation, member: members[1]) == .rebalanceInProgress)
        }
        // 24 s without a heartbeat from the parked leader, whose session is 10 s.
        #expect(harness.joinResult(rejoin) == nil)
        #expect(harness.describe().members.map(\.memberID) == [members[0], members[1]])
        let followerRejoin = harness.join(member: members[1])
        let result = try #require(harness.joinResult(rejoin))
        #expect(result.members.map(\.memberID) == [members[0], members[1]])
        #expect(harness.joinResult(followerRejoin)?.errorCode == GroupErrorCode.none)
    }

    @Test func newMemberWhoseJoinNeverCompletesIsDropped() throws {
        var harness = GroupHarness(configuration: .init(newMemberJoinTimeout: .seconds(60)))
        let (members, _) = try harness.stableGroup(count: 1, session: .seconds(120))
        let newcomer = harness.join(client: "new", session: .seconds(120), rebalance: .seconds(300))
        // The leader keeps heartbeating but never rejoins; the rebalance would wait 300 s.
        harness.advance(by: .seconds(60))
        #expect(harness.joinResult(newcomer)?.errorCode == .unknownMemberID)
        #expect(harness.describe().members.map(\.memberID) == [members[0]])
    }

    @Test func commitsCountAsSignsOfLife() throws {
        var harness = GroupHarness()
        let (members, generation) = try harness.stableGroup(count: 1, session: .seconds(10))
        harness.advance(by: .seconds(9))
        #expect(harness.validateCommit(generation: generation, member: members[0]) == nil)
        harness.advance(by: .seconds(9))
        #expect(harness.describe().members.count == 1)
    }
}
