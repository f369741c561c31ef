import Foundation

/// An unattended run: a list of steps against a running session, each timed, with the phase
/// (what duplicates are allowed) that the records of that step count under.
public struct Scenario: Sendable {
    /// How strict the checks are for what happens during a step.
    public enum Phase: String, Codable, Sendable {
        /// Before any fault.
        case steady
        /// After an unplanned fault: duplicates up to what the group consumed in one
        /// checkpoint interval are allowed.
        case unplanned
        /// A planned switchover or failback: nothing may be delivered twice.
        case planned
    }

    /// An unplanned move from a failed site to the one that takes over.
    public struct Failover: Sendable, Hashable {
        public var from: String
        public var to: String
    }

    public struct Step: Sendable {
        public var name: String
        public var phase: Phase
        /// Set when this step's end is the moment a failover completed: the runner then takes
        /// the failover time (from the fault to the new site serving alone) and the records at
        /// risk (``RecordsAtRisk``) before the next step.
        public var failover: Failover?
        public var action: @Sendable (SandboxSession, ScenarioClock) async throws -> Void
    }

    public var name: String
    public var summary: String
    public var steps: [Step]

    public static let all: [Scenario] = [.failoverFailback, .switchover, .partition]

    public static func named(_ name: String) -> Scenario? { all.first { $0.name == name } }

    /// Steady state, blackhole dc-a, automatic failover, heal, reconcile, planned failback.
    public static let failoverFailback = Scenario(
        name: "failover-failback",
        summary: "steady state; dc-a's cluster blackholed; automatic failover to dc-b; heal; reconcile; planned failback to dc-a",
        steps: [
            steady("steady state", .seconds(8)),
            Step(name: "blackhole dc-a", phase: .unplanned) { session, clock in
                clock.markFault()
                try await session.lab.blackhole("dc-a")
            },
            automaticFailover(from: "dc-a", to: "dc-b"),
            steady("serving at dc-b", .seconds(6), phase: .unplanned),
            Step(name: "heal dc-a", phase: .unplanned) { session, _ in try await session.lab.heal("dc-a") },
            Step(name: "reconcile and reverse flow", phase: .unplanned) { session, _ in
                try await waitWhole(session, within: .seconds(60))
                try await waitMirror(session, from: "dc-b", to: "dc-a", within: .seconds(30))
                try await Task.sleep(for: .seconds(5))
            },
            plannedMove("planned failback to dc-a", to: "dc-a", via: "dc-b"),
            steady("serving at dc-a again", .seconds(6), phase: .planned),
        ])

    /// Planned switchover to dc-b and back.
    public static let switchover = Scenario(
        name: "switchover",
        summary: "steady state; planned switchover to dc-b; planned switchover back to dc-a",
        steps: [
            steady("steady state", .seconds(8)),
            plannedMove("planned switchover to dc-b", to: "dc-b", via: "dc-a"),
            steady("serving at dc-b", .seconds(6), phase: .planned),
            plannedMove("planned switchover back to dc-a", to: "dc-a", via: "dc-b"),
            steady("serving at dc-a again", .seconds(6), phase: .planned),
        ])

    /// The active agent cut off from its peers while its cluster stays reachable to clients.
    public static let partition = Scenario(
        name: "partition",
        summary: "steady state; dc-a's agent cut off from its peers (its cluster still reachable); failover to dc-b; heal",
        steps: [
            steady("steady state", .seconds(8)),
            Step(name: "partition dc-a's agent", phase: .unplanned) { session, clock in
                clock.markFault()
                session.lab.partition("dc-a")
            },
            automaticFailover(from: "dc-a", to: "dc-b"),
            steady("serving at dc-b while dc-a is cut off", .seconds(6), phase: .unplanned),
            Step(name: "heal the partition", phase: .unplanned) { session, _ in
                session.lab.heal(partitionOf: "dc-a")
                try await waitWhole(session, within: .seconds(60))
            },
            steady("serving at dc-b, whole again", .seconds(6), phase: .unplanned),
        ])

    /// Waits, from the fault at `failed`, until `site` serves alone; its duration is the
    /// failover time.
    static func automaticFailover(from failed: String, to site: String) -> Step {
        Step(name: "automatic failover to \(site)", phase: .unplanned, failover: Failover(from: failed, to: site)) { session, clock in
            try await waitServing(session, site, since: clock.fault, within: .seconds(60))
        }
    }

    /// Asks `agent` for a planned switchover to `site` and waits until `site` serves alone.
    static func plannedMove(_ name: String, to site: String, via agent: String) -> Step {
        Step(name: name, phase: .planned) { session, clock in
            clock.markMove()
            try await session.lab.switchover(to: site, via: agent)
            try await waitServing(session, site, since: clock.move, within: .seconds(60))
        }
    }

    static func steady(_ name: String, _ length: Duration, phase: Phase = .steady) -> Step {
        Step(name: name, phase: phase) { _, _ in try await Task.sleep(for: length) }
    }
}

/// The instants a scenario's later steps measure from.
public final class ScenarioClock: @unchecked Sendable {
    // @unchecked: written and read only by the scenario's one task, step after step.
    public private(set) var fault: ContinuousClock.Instant = .now
    public private(set) var move: ContinuousClock.Instant = .now
    public private(set) var faultMarked = false

    public init() {}

    func markFault() {
        fault = .now
        faultMarked = true
    }

    func markMove() { move = .now }
}

/// Waits until `site` alone answers active (seen by the outside observer) after `since`.
func waitServing(_ session: SandboxSession, _ site: String, since: ContinuousClock.Instant, within limit: Duration) async throws {
    let deadline = ContinuousClock.now + limit
    while session.watch.firstServing(site, since: since) == nil {
        guard ContinuousClock.now < deadline else { throw SandboxError("\(site) did not serve as active within \(limit)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Waits until every agent answers, hears every other agent and sees both clusters up.
func waitWhole(_ session: SandboxSession, within limit: Duration) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await LabStatus.read(session.lab).isWhole { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw SandboxError("the agents did not all see each other and both clusters up within \(limit)")
}

/// Waits until the agents report a flow running from `from` to `to`.
func waitMirror(_ session: SandboxSession, from: String, to: String, within limit: Duration) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if let answer = session.watch.newest, answer.mirrorFrom == from, answer.mirrorTo == to {
            return
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw SandboxError("no flow \(from)→\(to) within \(limit)")
}
