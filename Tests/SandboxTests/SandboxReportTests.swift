import Foundation
import Testing

@testable import Sandbox

@Suite struct SandboxReportTests {
    static func records(lost: Int = 0, twice: [String: Int] = [:], allowed: [String: Int] = ["unplanned": 200, "planned": 0])
        -> SandboxReport.Records
    {
        SandboxReport.Records(
            sent: 100, acknowledged: 100, refused: 0, delivered: 100, lost: lost, deliveredTwice: twice.values.reduce(0, +),
            recoveredByReconcile: 0, deliveredTwiceByPhase: twice, allowedDuplicatesByPhase: allowed, lostSample: [:])
    }

    static let whole = SandboxReport.SplitBrain(intervals: [], epochRegressions: [], polls: 10)

    @Test func duplicatesWithinTheUnplannedAllowancePass() {
        #expect(SandboxReport.problems(records: Self.records(twice: ["unplanned": 200]), splitBrain: Self.whole, steps: []).isEmpty)
    }

    @Test func anyDuplicateInAPlannedPhaseFails() {
        let problems = SandboxReport.problems(records: Self.records(twice: ["planned": 1]), splitBrain: Self.whole, steps: [])
        #expect(problems == ["1 records delivered twice in the planned phase (allowed: 0)"])
    }

    @Test func lostRecordsSplitBrainRegressionsAndFailedStepsEachFail() {
        let splitBrain = SandboxReport.SplitBrain(
            intervals: [.init(startSeconds: 1, endSeconds: 2, sites: ["dc-a", "dc-b"])],
            epochRegressions: [.init(atSeconds: 3, agent: "witness", from: 2, to: 1)], polls: 10)
        let step = SandboxReport.StepTiming(name: "heal dc-a", phase: .unplanned, startSeconds: 0, durationSeconds: 1, error: "refused")
        let problems = SandboxReport.problems(
            records: Self.records(lost: 3, twice: ["unplanned": 201]), splitBrain: splitBrain, steps: [step])
        #expect(problems.count == 5, "\(problems)")
    }

    @Test func theSidecarAnswerWithoutStateMeansServingAndAnUnknownStatePauses() throws {
        let old = #"{"epoch":3,"activeSite":"dc-b","bootstrapServers":["b:9092"],"since":"2026-01-01T00:00:00Z","servingHere":true,"mirrorFrom":"dc-b","mirrorTo":"dc-a"}"#
        #expect(try JSONDecoder().decode(SidecarAnswer.self, from: Data(old.utf8)).effectiveState == .serving)
        let promoting = #"{"epoch":4,"activeSite":"dc-a","bootstrapServers":[],"servingHere":false,"state":"promoting"}"#
        #expect(try JSONDecoder().decode(SidecarAnswer.self, from: Data(promoting.utf8)).effectiveState == .promoting)
        let unknown = #"{"epoch":4,"activeSite":"dc-a","bootstrapServers":[],"servingHere":false,"state":"rebalancing"}"#
        #expect(try JSONDecoder().decode(SidecarAnswer.self, from: Data(unknown.utf8)).effectiveState == .fenced)
    }
}
