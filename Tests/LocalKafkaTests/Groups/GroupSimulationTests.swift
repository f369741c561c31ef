import LocalKafka
import NIOCore
import Testing
import TestSupport

extension SeededGenerator {
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
}

/// A consumer as a client library drives it: join, sync, heartbeat, rejoin when told to.
struct SimulatedConsumer {
    enum Phase: Equatable {
        case idle
        case joining(RequestToken)
        case syncing(RequestToken, GenerationID)
        case stable(GenerationID)
        case gone
    }
    let name: String
    let group: GroupID
    let requiresKnownMemberID: Bool
    var memberID: MemberID = .unknown
    var phase: Phase = .idle
    var pausedUntil: ContinuousClock.Instant?
}

/// Many consumers joining, leaving, stalling and crashing under a seeded schedule, checking
/// the coordinator's invariants after every step.
struct GroupSimulation {
    var harness = GroupHarness()
    var random: SeededGenerator
    var consumers: [SimulatedConsumer] = []
    let groups: [GroupID] = ["orders", "payments"]
    /// The leader every successful JoinGroup answer named, per group and generation.
    var leaders: [GroupID: [GenerationID: MemberID]] = [:]
    /// The member list the leader received, per group and generation.
    var memberLists: [GroupID: [GenerationID: [MemberID]]] = [:]
    /// Members that got a successful JoinGroup answer, per group and generation.
    var joinedMembers: [GroupID: [GenerationID: Set<MemberID>]] = [:]
    var latestGeneration: [GroupID: GenerationID] = [:]
    var stableObservations = 0
    /// Successful joins as "group generation consumer leader", by consumer name, to compare
    /// runs (member ids contain random UUIDs).
    var trace: [String] = []
    var names: [MemberID: String] = [:]

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    static func assignment(_ generation: GenerationID, _ member: MemberID) -> String { "g\(generation)/\(member)" }

    mutating func run(steps: Int) {
        for index in 0..<4 { spawn(index) }
        for _ in 0..<steps {
            harness.advance(by: .milliseconds(Int.random(in: 0...1500, using: &random)))
            for index in consumers.indices { act(index) }
            if random.chance(0.02) && consumers.filter({ $0.phase != .gone }).count < 12 { spawn(consumers.count) }
            checkStableGroups()
        }
    }

    /// Every consumer leaves or has crashed; time runs until every timer has fired.
    mutating func drain() {
        for index in consumers.indices where random.chance(0.5) {
            if consumers[index].memberID != .unknown {
                _ = harness.leave([LeavingMember(memberID: consumers[index].memberID)], group: consumers[index].group)
            }
            consumers[index].phase = .gone
        }
        for index in consumers.indices { consumers[index].phase = .gone }
        for _ in 0..<120 { harness.advance(by: .seconds(30)) }
    }

    private mutating func spawn(_ index: Int) {
        let group = groups[Int.random(in: 0..<groups.count, using: &random)]
        consumers.append(SimulatedConsumer(name: "c\(index)", group: group, requiresKnownMemberID: random.chance(0.5)))
    }

    private mutating func act(_ index: Int) {
        var consumer = consumers[index]
        defer { consumers[index] = consumer }
        if let until = consumer.pausedUntil {
            if harness.now < until { return }
            consumer.pausedUntil = nil
        }
        switch consumer.phase {
        case .gone:
            return
        case .idle:
            guard random.chance(0.5) else { return }
            consumer.phase = .joining(join(consumer))
        case .joining(let token):
            guard let result = harness.joinResult(token) else {
                // A client that gave up waiting and sent JoinGroup again.
                if random.chance(0.01) { consumer.phase = .joining(join(consumer)) }
                return
            }
            handleJoin(result, &consumer)
        case .syncing(let token, let generation):
            guard let result = harness.syncResult(token) else { return }
            switch result.errorCode {
            case .none:
                #expect(result.assignment.text == Self.assignment(generation, consumer.memberID))
                consumer.phase = .stable(generation)
            case .unknownMemberID:
                consumer.memberID = .unknown
                consumer.phase = .idle
            default:
                consumer.phase = .idle
            }
        case .stable(let generation):
            if random.chance(0.01) {
                let outcome = harness.leave([LeavingMember(memberID: consumer.memberID)], group: consumer.group)
                #expect(outcome.members.count == 1)
                consumer.memberID = .unknown
                consumer.phase = random.chance(0.5) ? .idle : .gone
                return
            }
            if random.chance(0.004) {
                consumer.phase = .gone  // crashed: never heard from again
                return
            }
            if random.chance(0.01) {
                // A stall (GC pause, slow poll loop) that may outlast the 10 s session.
                consumer.pausedUntil = harness.now + .milliseconds(Int.random(in: 2000...20000, using: &random))
                return
            }
            if random.chance(0.05) {
                let error = harness.validateCommit(consumer.group, generation: generation, member: consumer.memberID)
                #expect(error == nil || [.rebalanceInProgress, .illegalGeneration, .unknownMemberID].contains(error))
            }
            guard random.chance(0.6) else { return }
            switch harness.heartbeat(consumer.group, generation: generation, member: consumer.memberID) {
            case .none:
                break
            case .unknownMemberID:
                consumer.memberID = .unknown
                consumer.phase = .idle
            case .rebalanceInProgress, .illegalGeneration:
                consumer.phase = .idle
            case let other:
                Issue.record("unexpected heartbeat error \(other)")
            }
        }
    }

    private mutating func join(_ consumer: SimulatedConsumer) -> RequestToken {
        let protocols = random.chance(0.5) ? [("range", consumer.name), ("roundrobin", consumer.name)] : [("range", consumer.name)]
        return harness.join(
            consumer.group, member: consumer.memberID, client: consumer.name, protocols: protocols,
            session: .seconds(10), rebalance: .seconds(Int.random(in: 5...30, using: &random)),
            requiresKnownMemberID: consumer.requiresKnownMemberID)
    }

    private mutating func handleJoin(_ result: JoinResult, _ consumer: inout SimulatedConsumer) {
        switch result.errorCode {
        case .none:
            consumer.memberID = result.memberID
            names[result.memberID] = consumer.name
            record(result, group: consumer.group)
            trace.append("\(consumer.group) \(result.generationID) \(consumer.name) \(names[result.leader] ?? "?")")
            var assignments: [MemberID: String] = [:]
            if result.leader == result.memberID {
                for member in result.members { assignments[member.memberID] = Self.assignment(result.generationID, member.memberID) }
            }
            let token = harness.sync(consumer.group, generation: result.generationID, member: result.memberID, assignments: assignments)
            consumer.phase = .syncing(token, result.generationID)
        case .memberIDRequired:
            consumer.memberID = result.memberID
            consumer.phase = .idle
        case .unknownMemberID:
            consumer.memberID = .unknown
            consumer.phase = .idle
        case .rebalanceInProgress:
            consumer.phase = .idle
        case let other:
            Issue.record("unexpected JoinGroup error \(other)")
            consumer.phase = .gone
        }
    }

    private mutating func record(_ result: JoinResult, group: GroupID) {
        let generation = result.generationID
        if let known = leaders[group]?[generation] {
            #expect(known == result.leader, "two leaders in generation \(generation) of \(group)")
        }
        leaders[group, default: [:]][generation] = result.leader
        #expect(generation >= latestGeneration[group, default: GenerationID(0)], "generation went backwards")
        latestGeneration[group] = generation
        joinedMembers[group, default: [:]][generation, default: []].insert(result.memberID)
        if !result.members.isEmpty {
            #expect(result.memberID == result.leader, "a follower got the member list")
            let list = result.members.map(\.memberID)
            if let earlier = memberLists[group]?[generation] { #expect(earlier == list) }
            memberLists[group, default: [:]][generation] = list
        }
    }

    /// In a Stable group every member holds the assignment its leader made for this generation.
    private mutating func checkStableGroups() {
        for group in groups {
            let description = harness.describe(group)
            guard description.state == .stable else { continue }
            stableObservations += 1
            for member in description.members {
                #expect(member.assignment.text == Self.assignment(description.generationID, member.memberID))
            }
        }
    }

    /// After `drain()`: nothing parked, nothing left, every joined member was in its leader's list.
    func checkFinalState() {
        #expect(harness.parked.isEmpty, "requests never answered: \(harness.parked)")
        #expect(harness.coordinator.nextDeadline() == nil)
        for group in groups {
            let description = harness.describe(group)
            #expect(description.members.isEmpty)
            #expect(description.state == .empty || description.state == .dead)
            for (generation, joined) in joinedMembers[group] ?? [:] {
                guard let list = memberLists[group]?[generation] else { continue }
                #expect(joined.isSubset(of: Set(list)), "generation \(generation) of \(group)")
            }
        }
    }
}

@Suite("Group coordinator: randomized schedules")
struct GroupSimulationTests {
    @Test(arguments: 1...30)
    func seededScheduleKeepsInvariants(seed: Int) {
        var simulation = GroupSimulation(seed: UInt64(seed))
        simulation.run(steps: 1500)
        #expect(simulation.stableObservations > 0, "the schedule never let a group stabilize")
        #expect(simulation.leaders.values.map(\.count).reduce(0, +) > 2, "too few generations to mean anything")
        simulation.drain()
        simulation.checkFinalState()
    }

    @Test func sameSeedReplaysTheSameSchedule() {
        var first = GroupSimulation(seed: 42)
        first.run(steps: 800)
        var second = GroupSimulation(seed: 42)
        second.run(steps: 800)
        #expect(first.trace.count > 10)
        #expect(first.trace == second.trace)
    }
}
