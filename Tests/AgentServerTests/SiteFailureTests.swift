import AgentServer
import Consensus
import Foundation
import Testing

/// Issue 5's site-failure scenarios, on the partition tests' lab (real `switchback agent` and
/// `switchback broker` processes on hosts in network namespaces, observed from the host obs).
/// Each test says how its fault is made. In the same suite as `PartitionTests`, so that no two
/// labs compete for the CPU and blur the timings under test.
extension PartitionTests {
    static let agentHosts = Set(SiteLab.agents.map(\.0))

    /// The fault: dc-a's broker swallows every request (`POST /faults/blackhole` on its LocalKafka
    /// control endpoint, which also drops open connections). dc-a's agent and every network
    /// link stay up: only the active site's cluster is gone. Healed with `POST /faults/heal`.
    @Test("dc-a's cluster blackholed: dc-b elected one epoch later and served, dc-a stops, never both; no failback after healing")
    func activeClusterBlackholed() async throws {
        try await SiteLab.with(prefix: "blackhole") { lab in
            let recorder = try lab.recordSidecars()
            defer { recorder.cancel() }
            let before = try #require(lab.active("a")).epoch
            let since = Date()
            let faultAt = recorder.elapsed
            try lab.brokerControl("a", "/faults/blackhole")
            let elected = await eventually(timeout: .seconds(60)) {
                guard let a = lab.active("a"), let b = lab.active("b"), let w = lab.active("w") else { return false }
                return [a, b, w].allSatisfy { $0.activeSite == "dc-b" } && b.servingHere && !a.servingHere
            }
            #expect(elected, "dc-b was not elected and served after dc-a's cluster was blackholed")
            for host in ["a", "b", "w"] {
                let answer = lab.active(host)
                #expect(answer?.activeSite == "dc-b" && answer?.epoch == before + 1, "\(host) answered \(String(describing: answer))")
            }

            try lab.brokerControl("a", "/faults/heal")
            let healed = await eventually(timeout: .seconds(30)) { lab.isWhole() }
            #expect(healed, "the agents did not all see dc-a's cluster up again after healing it")
            // Failback is manual by default: with dc-a healthy again, nothing may move back.
            let quiet = await watch(for: SiteLab.quietWindow) {
                lab.configurationProblems(activeHost: "b", epoch: before + 1, answering: Self.agentHosts)
            }
            #expect(quiet.problems.isEmpty, "after healing dc-a's cluster: \(quiet.summary)")

            let polls = await recorder.stop()
            let claims = ActiveClaimChecker.claims(from: polls)
            #expect(ActiveClaimChecker.violations(in: claims).isEmpty, "\(ActiveClaimChecker.violations(in: claims))")
            let firstServedByB = polls.filter { $0.agent == "dc-b" && $0.servingActive && $0.sent >= faultAt }.min { $0.sent < $1.sent }
            let lastServedByA = polls.filter { $0.agent == "dc-a" && $0.servingActive }.max { $0.received < $1.received }
            let served = try #require(firstServedByB, "no poll ever saw dc-b serving")
            let fenced = try #require(lastServedByA, "no poll ever saw dc-a serving")
            #expect(fenced.received <= served.sent, "dc-a still answered active at \(fenced.received), after dc-b served at \(served.sent)")
            print(
                "blackhole: dc-a's cluster blackholed → dc-b serving in \(served.received - faultAt) "
                    + "(dc-a's last active answer \(fenced.received - faultAt) after the fault; polled every 25 ms)")

            let audit = try AuditTrail(lab, since: since)
            print("blackhole: audit entries since the fault: \(audit.counts)")
            // A commit's entry carries the committed configuration's epoch.
            let newerCommits = audit.lines(.committed).filter { $0.entry.epoch != before + 1 }
            #expect(newerCommits.isEmpty, "configurations committed after the failover: \(newerCommits)")
            let promotions = audit.lines.filter { $0.entry.kind == "promote" }
            #expect(promotions.count == 1 && promotions.first?.host == "b", "promotions: \(promotions)")
        }
    }

    /// The fault: the witness's agent process is killed with SIGKILL (a crash), then started
    /// again from its data directory.
    @Test("witness killed: nothing changes (epoch 0, dc-a serving, no election); restarted, it adopts epoch 0")
    func witnessKilled() async throws {
        try await SiteLab.with(prefix: "witness-kill") { lab in
            let since = Date()
            try await lab.killAgent("w")
            try await expectNothingChanges(lab, since: since, answering: ["a", "b"]) {
                lab.reaches("a", "witness") == false && lab.reaches("b", "witness") == false
            }

            try lab.startAgent("w")
            try await expectRejoined(lab, since: since, timeout: .seconds(60), "the witness (restarted)")
            let witness = try #require(lab.status("w"))
            #expect(witness.active.activeSite == "dc-a" && witness.active.epoch == 0)
        }
    }

    /// The fault: iptables in the witness's namespace drops everything between it and hosts a
    /// and b, both ways (the witness stays reachable from the observer, so it can be asked).
    @Test("witness cut off from both sites: nothing changes, the witness stands for nothing; after healing all agree on epoch 0")
    func witnessCutOff() async throws {
        try await SiteLab.with(prefix: "witness-cut") { lab in
            let since = Date()
            try lab.network.cut("w", from: ["a", "b"])
            try await expectNothingChanges(lab, since: since, answering: Self.agentHosts) {
                lab.reaches("a", "witness") == false && lab.reaches("b", "witness") == false
                    && lab.reaches("w", "dc-a") == false && lab.reaches("w", "dc-b") == false
            }

            try lab.network.heal("w")
            try await expectRejoined(lab, since: since, timeout: .seconds(30), "the witness's links")
        }
    }

    /// The fault: iptables in b's namespace drops everything between b and hosts a and w, both
    /// ways, so dc-b's agent and broker are both unreachable for the other agents (the observer
    /// still reaches b's agent, so its answers can be checked).
    @Test("standby site cut off: nothing changes for dc-a; dc-a and the witness see dc-b down; after healing dc-b rejoins as standby")
    func standbySiteCutOff() async throws {
        try await SiteLab.with(prefix: "standby-cut") { lab in
            let since = Date()
            try lab.network.cut("b", from: ["a", "w"])
            try await expectNothingChanges(lab, since: since, answering: Self.agentHosts) {
                ["a", "w"].allSatisfy { lab.reaches($0, "dc-b") == false && lab.view($0, of: "dc-b")?.objectivelyDown == true }
            }

            try lab.network.heal("b")
            try await expectRejoined(lab, since: since, timeout: .seconds(30), "dc-b's links")
        }
    }

    /// The fault: dc-b's agent process is killed with SIGKILL and dc-b's broker blackholed
    /// (`POST /faults/blackhole`); then the broker is healed and the agent started again.
    @Test("standby agent killed and its cluster blackholed: nothing changes for dc-a; dc-b comes back as standby")
    func standbySiteDown() async throws {
        try await SiteLab.with(prefix: "standby-down") { lab in
            let since = Date()
            try await lab.killAgent("b")
            try lab.brokerControl("b", "/faults/blackhole")
            try await expectNothingChanges(lab, since: since, answering: ["a", "w"]) {
                ["a", "w"].allSatisfy { lab.reaches($0, "dc-b") == false && lab.view($0, of: "dc-b")?.objectivelyDown == true }
            }

            try lab.brokerControl("b", "/faults/heal")
            try lab.startAgent("b")
            try await expectRejoined(lab, since: since, timeout: .seconds(60), "dc-b's cluster and agent (restarted)")
        }
    }

    /// The fault: iptables in a's namespace drops everything between a and b, both ways; both
    /// still reach the witness. Each site sees the other's cluster down; only a majority of
    /// voters seeing the active site down may start an election, and the witness sees it up.
    @Test("link between dc-a and dc-b cut, both reach the witness: no failover storm, dc-a keeps its lease through the witness")
    func siteLinkCut() async throws {
        try await SiteLab.with(prefix: "link-cut") { lab in
            let since = Date()
            try lab.network.cut("a", from: ["b"])
            try await expectNothingChanges(lab, since: since, answering: Self.agentHosts) {
                lab.reaches("a", "dc-b") == false && lab.reaches("b", "dc-a") == false
                    && lab.view("a", of: "dc-b")?.subjectivelyDown == true && lab.view("b", of: "dc-a")?.subjectivelyDown == true
            }

            try lab.network.heal("a")
            try await expectRejoined(lab, since: since, timeout: .seconds(30), "the dc-a–dc-b link")
        }
    }

    /// The part every "nothing changes" scenario shares: waits until the agents show they
    /// noticed the fault (`noticed`), then watches a quiet window in which dc-a must serve in
    /// epoch 0 and every other agent follow it; afterwards no agent may have moved to a newer
    /// epoch (not even an uncommitted one) and the audit logs must hold no candidacy, vote,
    /// commit or promotion since the fault.
    func expectNothingChanges(
        _ lab: SiteLab, since: Date, answering: Set<String>, sourceLocation: SourceLocation = #_sourceLocation,
        noticed: () -> Bool
    ) async throws {
        let name = Test.current?.name ?? "scenario"
        let fault = ContinuousClock.now
        let seen = await eventually(timeout: .seconds(30)) { noticed() }
        #expect(seen, "the agents did not notice the fault within 30 s", sourceLocation: sourceLocation)
        let noticedAfter = ContinuousClock.now - fault
        let quiet = await watch(for: SiteLab.quietWindow) {
            lab.configurationProblems(activeHost: "a", epoch: 0, answering: answering)
        }
        print("\(name): fault noticed after \(noticedAfter), then \(quiet.samples) samples over \(SiteLab.quietWindow)")
        // At least one sample of all three agents per second of the 8 s window (each sample launches
        // three curls in namespaces, one at a time under NetworkLab's launch lock).
        #expect(quiet.samples >= 8, "too few samples in the quiet window", sourceLocation: sourceLocation)
        #expect(quiet.problems.isEmpty, "while the fault lasted: \(quiet.summary)", sourceLocation: sourceLocation)
        let audit = try expectNoElection(lab, since: since, asking: answering, sourceLocation: sourceLocation)
        print(
            "\(name): since the fault \(audit.lines(.candidacy).count) candidacies, \(audit.lines(.voteGranted).count) votes granted, "
                + "\(audit.lines(.committed).count) commits; all audit entries: \(audit.counts.isEmpty ? "none" : audit.counts)")
    }

    /// After the fault of a "nothing changes" scenario was healed (`what` names what was): every
    /// agent hears every other and sees both clusters up, all agree that dc-a serves in epoch
    /// 0, and still nobody has stood, voted or committed since the fault.
    func expectRejoined(
        _ lab: SiteLab, since: Date, timeout: Duration, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let rejoined = await eventually(timeout: timeout) { lab.isWhole() }
        #expect(rejoined, "after healing \(what), the agents did not all hear each other and see both clusters up within \(timeout)", sourceLocation: sourceLocation)
        let problems = lab.configurationProblems(activeHost: "a", epoch: 0, answering: Self.agentHosts)
        #expect(problems.isEmpty, "after healing \(what): \(problems)", sourceLocation: sourceLocation)
        try expectNoElection(lab, since: since, asking: Self.agentHosts, sourceLocation: sourceLocation)
    }

    /// No agent on `hosts` has moved to a newer epoch, not even an uncommitted one, and no
    /// audit log holds a candidacy, vote, commit or promotion since `since`.
    @discardableResult
    func expectNoElection(_ lab: SiteLab, since: Date, asking hosts: Set<String>, sourceLocation: SourceLocation) throws -> AuditTrail {
        for host in hosts.sorted() {
            let epoch = lab.status(host)?.election.currentEpoch
            #expect(epoch == .initial, "\(host) is at \(String(describing: epoch))", sourceLocation: sourceLocation)
        }
        let audit = try AuditTrail(lab, since: since)
        #expect(audit.electionMoves.isEmpty, "the election moved:\n\(audit.electionMoves)", sourceLocation: sourceLocation)
        return audit
    }
}
