import AgentServer
import Foundation
import Testing

/// Seeded schedules of faults (kills, pauses, one-way and two-way link cuts, isolations, broker
/// blackholes, heals) over real agent and broker processes in network namespaces, while every
/// agent's sidecar endpoint is polled every ~25 ms; the recorded claims of "I serve active" must
/// never overlap between sites and epochs must only move forward.
///
/// `SWITCHBACK_CHAOS_SCHEDULES` (default 1), `SWITCHBACK_CHAOS_SECONDS` (default 30, length of
/// one schedule) and `SWITCHBACK_CHAOS_SEED` (default 20261124; schedule i uses seed + i) set
/// the run; each schedule prints its seed, so `SWITCHBACK_CHAOS_SEED=<seed>
/// SWITCHBACK_CHAOS_SCHEDULES=1` replays it.
@Suite("Randomized partitions between agent processes", .serialized, .timeLimit(.minutes(60)), .enabled(if: NetworkLab.shouldRun, "needs root, ip, iptables and curl (the reason is printed)"))
struct RandomizedPartitionTests {
    static let failover = "{ candidate_backoff: 1s, block_period: 3s, failback: automatic, failback_after: 3s }"

    struct Tally {
        var schedules = 0
        var faults = 0
        var faultKinds: [String: Int] = [:]
        /// Pauses held longer than the 2 s lease: the resumed agent must learn it was fenced.
        var pausesPastLease = 0
        var handovers = 0
        var highestEpoch: UInt64 = 0
        var claims = 0
        var polls = 0
        var failedPolls = 0
        var splitBrain = 0
        var epochRegressions = 0
    }

    static func environmentNumber(_ name: String, default fallback: UInt64) -> UInt64 {
        ProcessInfo.processInfo.environment[name].flatMap { UInt64($0) } ?? fallback
    }

    @Test("random faults over real processes: never two sites serving active, epochs only move forward")
    func randomizedSchedules() async throws {
        let schedules = Self.environmentNumber("SWITCHBACK_CHAOS_SCHEDULES", default: 1)
        let seconds = Self.environmentNumber("SWITCHBACK_CHAOS_SECONDS", default: 30)
        let seed = Self.environmentNumber("SWITCHBACK_CHAOS_SEED", default: 20_261_124)
        let started = ContinuousClock.now
        var tally = Tally()
        print("chaos: \(schedules) schedule(s) of \(seconds) s from seed \(seed)")
        for index in 0..<schedules {
            let schedule = ChaosSchedule(seed: seed &+ index, length: .seconds(seconds))
            try await run(schedule, into: &tally)
        }
        print(
            """
            chaos summary: seed \(seed), schedules \(tally.schedules), faults injected \(tally.faults) \
            (\(tally.faultKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); \
            pauses past the lease \(tally.pausesPastLease)), \
            failovers observed (serving site changed) \(tally.handovers), highest epoch \(tally.highestEpoch), \
            active claims \(tally.claims), polls \(tally.polls) (\(tally.failedPolls) failed), \
            split-brain intervals \(tally.splitBrain), epoch regressions \(tally.epochRegressions), \
            runtime \(ContinuousClock.now - started)
            """)
    }

    func run(_ schedule: ChaosSchedule, into tally: inout Tally) async throws {
        print("chaos schedule seed \(schedule.seed): \(schedule.steps.count) steps")
        try await SiteLab.with(prefix: "chaos-\(schedule.seed)", failover: Self.failover) { lab in
            let recorder = try lab.recordSidecars()
            defer { recorder.cancel() }
            var unexpectedExits: [String] = []
            for step in schedule.steps {
                print("chaos [\(recorder.elapsed)] \(step)")
                // Every agent killed by the previous step was restarted; none may be gone now.
                unexpectedExits += exitedAgents(lab)
                var applied: [ChaosFault] = []
                for fault in step.faults {
                    let resolved = try await apply(fault, lab)
                    if resolved != fault { print("chaos   \(fault): \(resolved)") }
                    applied.append(resolved)
                    tally.faults += 1
                    tally.faultKinds[fault.kind, default: 0] += 1
                    if case .pauseAgent = resolved, step.hold > .seconds(2) { tally.pausesPastLease += 1 }
                }
                try await Task.sleep(for: step.hold)
                for fault in applied.reversed() { try revert(fault, lab) }
                try await Task.sleep(for: step.gap)
            }
            unexpectedExits += exitedAgents(lab)
            // Healed: the committed active site must serve again (liveness), then stop recording.
            let settled = await eventually(timeout: .seconds(45)) {
                ["a", "b"].filter { lab.active($0)?.servingHere == true }.count == 1
            }
            let polls = await recorder.stop()
            let claims = ActiveClaimChecker.claims(from: polls)
            let conflicts = ActiveClaimChecker.violations(in: claims)
            let regressions = ActiveClaimChecker.epochRegressions(in: polls)
            let handovers = ActiveClaimChecker.handovers(in: claims)
            tally.schedules += 1
            tally.handovers += handovers
            tally.highestEpoch = max(tally.highestEpoch, polls.compactMap(\.epoch).max() ?? 0)
            tally.claims += claims.count
            tally.polls += polls.count
            tally.failedPolls += polls.filter { $0.epoch == nil }.count
            tally.splitBrain += conflicts.count
            tally.epochRegressions += regressions.count
            print(
                "chaos schedule seed \(schedule.seed): \(handovers) failovers, \(claims.count) claims, "
                    + "\(polls.count) polls, \(conflicts.count) split-brain, \(regressions.count) epoch regressions")
            for claim in claims { print("  claim \(claim)") }
            if !conflicts.isEmpty || !regressions.isEmpty { keepEvidence(lab, schedule, conflicts + regressions) }
            #expect(conflicts.isEmpty, "seed \(schedule.seed): \(conflicts)")
            #expect(regressions.isEmpty, "seed \(schedule.seed): \(regressions)")
            #expect(unexpectedExits.isEmpty, "seed \(schedule.seed): agents exited on their own: \(unexpectedExits)")
            #expect(settled, "seed \(schedule.seed): after healing, not exactly one site served active")
            // The recorder must have seen the agents: a run with no claim checked nothing.
            #expect(claims.contains { $0.agent == "dc-a" }, "seed \(schedule.seed): no active claim recorded at all")
        }
    }

    func exitedAgents(_ lab: SiteLab) -> [String] {
        lab.agentProcesses.filter { !$0.value.isRunning }.map { "agent \($0.key) (status \($0.value.terminationStatus))" }
    }

    /// Applies `fault` and returns it as applied (a pause of the serving agent names the agent).
    func apply(_ fault: ChaosFault, _ lab: SiteLab) async throws -> ChaosFault {
        switch fault {
        case .killAgent(let host):
            try await lab.killAgent(host)
        case .pauseAgent(let host):
            guard let process = lab.agentProcesses[host] else { return fault }
            kill(process.processIdentifier, SIGSTOP)
        case .pauseServingAgent:
            // When no site serves right now (mid failover), pause dc-a's agent instead.
            let host = ChaosSchedule.siteHosts.first { lab.active($0)?.servingHere == true } ?? "a"
            return try await apply(.pauseAgent(host), lab)
        case .cutLink(let first, let second):
            try lab.network.cut(first, from: [second])
        case .cutInbound(let host, let peer):
            try lab.network.cutInbound(host, from: peer)
        case .isolate(let host):
            try lab.network.cut(host, from: ChaosSchedule.agentHosts.filter { $0 != host })
        case .blackholeBroker(let host):
            try lab.brokerControl(host, "/faults/blackhole")
        }
        return fault
    }

    func revert(_ fault: ChaosFault, _ lab: SiteLab) throws {
        switch fault {
        case .killAgent(let host):
            try lab.startAgent(host)
        case .pauseAgent(let host):
            guard let process = lab.agentProcesses[host] else { return }
            kill(process.processIdentifier, SIGCONT)
        case .pauseServingAgent:
            // `apply` resolves this to `pauseAgent`; there is nothing to undo under this name.
            return
        case .cutLink(let host, _), .cutInbound(let host, _), .isolate(let host):
            try lab.network.heal(host)
        case .blackholeBroker(let host):
            try lab.brokerControl(host, "/faults/heal")
        }
    }

    /// Copies every agent's audit log and process logs out of the temporary directory, which
    /// is removed after the test, and says where they are.
    func keepEvidence(_ lab: SiteLab, _ schedule: ChaosSchedule, _ violations: [SafetyViolation]) {
        let evidence = URL(fileURLWithPath: "/tmp/switchback-chaos-seed-\(schedule.seed)-\(lab.network.prefix)")
        try? FileManager.default.createDirectory(at: evidence, withIntermediateDirectories: true)
        for (host, _) in SiteLab.agents {
            try? FileManager.default.copyItem(
                at: lab.dataDirectory(host).appendingPathComponent("audit.jsonl"),
                to: evidence.appendingPathComponent("audit-\(host).jsonl"))
        }
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: lab.directory.path))?.filter { $0.hasSuffix(".log") } ?? []
        for log in logs {
            try? FileManager.default.copyItem(at: lab.directory.appendingPathComponent(log), to: evidence.appendingPathComponent(log))
        }
        let report = violations.map(\.description).joined(separator: "\n") + "\nschedule:\n"
            + schedule.steps.map(\.description).joined(separator: "\n") + "\n"
        try? report.write(to: evidence.appendingPathComponent("violations.txt"), atomically: true, encoding: .utf8)
        print("chaos: SAFETY VIOLATION with seed \(schedule.seed); audit logs, agent logs and the schedule kept in \(evidence.path)")
    }
}
