import Foundation
import Spawning
import Testing

/// Issue 11: the Promela model of vote, commit and lease (`Models/election.pml`), checked
/// exhaustively by spin. The model with every fix must have no reachable violation; with each
/// fix reverted (a compile-time switch of the model) spin must find one, and its trail is
/// printed so the counterexample shows in the test log. `Models/README.md` says what the
/// model covers and how to run each check by hand.
@Suite("Election model checked by spin", .serialized, .timeLimit(.minutes(12)))
struct ElectionModelTests {
    @Test func theFixedProtocolHasNoReachableViolation() async throws {
        let check = try await SpinCheck.run(defines: [])
        #expect(check.errors == 0, "spin found a violation in the fixed model:\n\(check.counterexample ?? check.report)")
        #expect(check.states > 0, "\(check.report)")
    }

    /// Item 1: a lease request carries no duration; each agent uses its own lease length.
    @Test func revertingTheLeaseDurationFixLetsTwoSitesServe() async throws {
        let check = try await SpinCheck.run(defines: ["REVERT_LEASE_DURATION"])
        check.expectCounterexample(showing: "both serve active")
    }

    /// Item 2: a voter whose own candidacy failed renews the old lease after storing a newer
    /// configuration.
    @Test func revertingTheStaleRenewalFixLetsTwoSitesServe() async throws {
        let check = try await SpinCheck.run(defines: ["REVERT_STALE_RENEW"])
        check.expectCounterexample(showing: "both serve active")
    }

    /// Item 3: votes are not bound to their candidate, commits are taken from any peer.
    @Test func revertingTheVoteBindingFixCommitsTwoConfigurationsInOneEpoch() async throws {
        let check = try await SpinCheck.run(defines: ["REVERT_VOTE_BINDING"])
        check.expectCounterexample(showing: "two configurations committed")
    }

    /// The drift is modelled with teeth: a lease safety margin smaller than the three clock
    /// errors of a hand-over (holder, voter, new leader) lets two sites serve.
    @Test func aMarginSmallerThanTheDriftLetsTwoSitesServe() async throws {
        let check = try await SpinCheck.run(defines: ["MARGIN=2"])
        check.expectCounterexample(showing: "both serve active")
    }

    /// The model's two rules beyond items 1-3 (`abandonedOwnElection` is false after voting for
    /// another candidate in a newer epoch — now in Sources/Consensus as `votedForAnotherIn`;
    /// the holder's own grant obeys item 2): without them spin finds two sites serving even
    /// with all three fixes (Models/README.md).
    @Test func theRulesBeyondTheThreeFixesAreNeeded() async throws {
        let check = try await SpinCheck.run(defines: ["SWIFT_TODAY"])
        check.expectCounterexample(showing: "both serve active")
    }
}

/// One run of spin's verifier for the model with some switches defined.
struct SpinCheck {
    static let model = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models/election.pml")
    /// pan's search depth limit: far above the deepest path of the fixed model.
    static let depthLimit = 200_000
    /// Steps of the counterexample printed (its end, where the violation is).
    static let shownSteps = 40

    var defines: [String]
    /// pan's summary lines.
    var report: String
    var errors: Int
    var states: Int
    var seconds: Double
    /// The trail replayed by `spin -t -p`, cut down to the model's own step descriptions.
    var counterexample: String?

    /// Generates the verifier in a temporary directory, compiles it and runs it.
    /// - Throws: when spin or cc cannot be started; a missing spin fails with what to do.
    static func run(defines: [String]) async throws -> SpinCheck {
        let spin = try? await SpawnedProcess.run("spin", ["-V"])
        try #require(
            spin?.termination == .exited(0),
            "spin is not installed: run script/bootstrap (it installs the Debian package spin). \(spin?.output ?? "")")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("election-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: model, to: directory.appendingPathComponent("election.pml"))
        let flags = defines.map { "-D\($0)" }
        let label = defines.isEmpty ? "all fixes" : defines.joined(separator: " ")

        let generated = try await SpawnedProcess.run("spin", ["-a"] + flags + ["election.pml"], directory: directory.path)
        try #require(generated.termination == .exited(0), "spin -a failed for \(label):\n\(generated.output)")
        let compiled = try await SpawnedProcess.run(
            "cc", ["-O2", "-w", "-DSAFETY", "-DNOFAIR", "-o", "pan", "pan.c"], directory: directory.path)
        try #require(compiled.termination == .exited(0), "cc failed to compile pan.c for \(label):\n\(compiled.output)")

        let started = ContinuousClock.now
        let verified = try await SpawnedProcess.run(directory.appendingPathComponent("pan").path, ["-m\(depthLimit)"], directory: directory.path)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let report = verified.output.split(separator: "\n").filter {
            $0.contains("errors:") || $0.contains("states, stored") || $0.contains("assertion violated")
                || $0.contains("max search depth too small") || $0.contains("elapsed time")
        }.joined(separator: "\n")
        #expect(!verified.output.contains("max search depth too small"), "pan's depth limit cut the search for \(label):\n\(report)")
        let errors = try #require(Self.number(before: nil, after: "errors:", in: verified.output), "no error count from pan for \(label):\n\(verified.output)")
        let states = try #require(Self.number(before: "states, stored", after: nil, in: verified.output), "no state count from pan for \(label):\n\(verified.output)")

        var counterexample: String?
        if errors > 0 {
            let trail = try await SpawnedProcess.run("spin", ["-t", "-p"] + flags + ["election.pml"], directory: directory.path)
            let steps = trail.output.split(separator: "\n").compactMap { line -> String? in
                // The model's printf output, not the replayed statements (which quote it).
                guard !line.contains("printf("), let range = line.range(of: "MSC: ") else { return nil }
                return String(line[range.upperBound...])
            }
            let violation = trail.output.split(separator: "\n").first { $0.contains("assertion violated") }.map(String.init) ?? ""
            let omitted = max(steps.count - shownSteps, 0)
            var lines: [String] = omitted > 0 ? ["(\(omitted) earlier steps omitted)"] : []
            lines += steps.suffix(shownSteps)
            lines.append(violation)
            counterexample = lines.joined(separator: "\n")
        }
        let check = SpinCheck(defines: defines, report: report, errors: errors, states: states, seconds: seconds, counterexample: counterexample)
        print("spin model, \(label): \(errors) errors, \(states) states, \(String(format: "%.1f", seconds)) s")
        if let counterexample {
            print("counterexample (\(label)); t is global time in ticks, eN an epoch:\n\(counterexample)")
        }
        return check
    }

    /// Expects that pan found a violation and that the trail ends in `ending`.
    func expectCounterexample(showing ending: String) {
        let label = defines.joined(separator: " ")
        #expect(errors > 0, "spin found no violation with \(label), which reverts a fix:\n\(report)")
        #expect(counterexample?.contains(ending) == true, "the counterexample for \(label) does not show '\(ending)':\n\(counterexample ?? report)")
    }

    /// The integer right after `after`, or right before `before`, on the first line that has it.
    static func number(before: String?, after: String?, in output: String) -> Int? {
        for line in output.split(separator: "\n") {
            if let after, let range = line.range(of: after) {
                return Int(line[range.upperBound...].trimmingCharacters(in: .whitespaces).prefix { $0.isNumber })
            }
            if let before, let range = line.range(of: before) {
                return Int(line[..<range.lowerBound].trimmingCharacters(in: .whitespaces).split(separator: " ").last ?? "")
            }
        }
        return nil
    }
}
