import Foundation
import Sandbox
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `switchback sandbox` run as a user runs it: a real process with brokers, agents and
/// mirrors as its children.
@Suite("switchback sandbox as a process", .serialized, .timeLimit(.minutes(4)))
struct SandboxProcessTests {
    @Test func aScenarioWritesAReportWhoseVerdictIsTheExitStatusAndLeavesNothingRunning() async throws {
        try await withTemporaryDirectory(prefix: "sandbox-scenario") { directory in
            let report = directory.appendingPathComponent("r.json")
            let sandbox = try SandboxProcess.start(["--scenario", "switchover", "--report", report.path, "--rate", "100"], in: directory)
            let status = try await sandbox.exitStatus(within: .seconds(180))
            let decoded = try JSONDecoder().decode(SandboxReport.self, from: Data(contentsOf: report))
            #expect(status == (decoded.passed ? 0 : 1), "stderr: \(sandbox.standardError.suffix(3000))")
            #expect(decoded.passed == decoded.problems.isEmpty)
            // Planned both ways: nothing lost, nothing delivered twice, no split brain.
            #expect(decoded.passed, "\(decoded.problems)")
            #expect(decoded.records.lost == 0 && decoded.records.deliveredTwice == 0, "\(decoded.records)")
            #expect(decoded.steps.map(\.name) == Scenario.switchover.steps.map(\.name))
            #expect(decoded.steps.allSatisfy { $0.error == nil }, "\(decoded.steps)")
            // 20 s of the run at 100/s: most of it must have been acknowledged and delivered.
            #expect(decoded.records.acknowledged > 1_000)
            #expect(decoded.records.delivered >= decoded.records.acknowledged - decoded.records.lost)
            #expect(decoded.splitBrain.polls > 100)
            #expect(decoded.splitBrain.intervals.isEmpty)
            #expect(processesMentioning(sandbox.directory.path).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: sandbox.directory.path), "the run's directory is removed without --keep")
        }
    }

    @Test func ctrlCStopsEverythingCleanlyAndExits130() async throws {
        try await withTemporaryDirectory(prefix: "sandbox-sigint") { directory in
            let sandbox = try SandboxProcess.start(["--scenario", "failover-failback"], in: directory)
            try await eventually(within: .seconds(120), "the lab is up") { sandbox.standardError.contains("step: steady state") }
            #expect(processesMentioning(sandbox.directory.path).count >= 6, "the sandbox, two brokers, three agents")
            kill(sandbox.process.processIdentifier, SIGINT)
            let status = try await sandbox.exitStatus(within: .seconds(60))
            #expect(status == 130, "stderr: \(sandbox.standardError.suffix(2000))")
            #expect(processesMentioning(sandbox.directory.path).isEmpty)
        }
    }

    @Test func childrenDieWithTheSandboxEvenWhenItIsKilled() async throws {
        try await withTemporaryDirectory(prefix: "sandbox-sigkill") { directory in
            let sandbox = try SandboxProcess.start(["--scenario", "failover-failback"], in: directory)
            try await eventually(within: .seconds(120), "the lab is up") { sandbox.standardError.contains("step: steady state") }
            let children = processesMentioning(sandbox.directory.path)
            #expect(children.count >= 6, "the sandbox, two brokers, three agents")
            kill(sandbox.process.processIdentifier, SIGKILL)
            _ = try await sandbox.exitStatus(within: .seconds(10))
            try await eventually(within: .seconds(10), "every child is gone") { processesMentioning(sandbox.directory.path).isEmpty }
        }
    }
}
