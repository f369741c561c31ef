import Consensus
import Orchestrator
import Sites
import Testing

@Suite("Promotion state machine")
struct PromotionTests {
    let epoch = Epoch(4)
    let oldSite: SiteID = "dc-a"

    @Test("old site reachable: drain the flow, position groups live, record the epoch, then serve — in that order")
    func reachableOrder() {
        var promotion = Promotion(epoch: epoch, oldSite: oldSite)
        #expect(promotion.start(oldSiteReachable: true) == .stopFlow(epoch: epoch, from: oldSite, drain: true))
        #expect(promotion.flowStopped(epoch: epoch, drained: true) == .positionGroups(epoch: epoch, from: oldSite, source: .live))
        #expect(promotion.step == .positionGroups)
        #expect(promotion.groupsPositioned(epoch: epoch, from: .live) == .recordEpoch(epoch: epoch))
        #expect(promotion.epochRecorded(epoch: epoch) == .announceServing(epoch: epoch))
        #expect(promotion.step == .serving && promotion.positionedFrom == .live)
    }

    @Test("old site unreachable: stop without draining and position from the checkpoints")
    func unreachableUsesCheckpoints() {
        var promotion = Promotion(epoch: epoch, oldSite: oldSite)
        #expect(promotion.start(oldSiteReachable: false) == .stopFlow(epoch: epoch, from: oldSite, drain: false))
        #expect(promotion.flowStopped(epoch: epoch, drained: false) == .positionGroups(epoch: epoch, from: oldSite, source: .checkpoints))
    }

    @Test("serving is never announced before the groups are positioned: out-of-order outcomes do nothing")
    func noServingBeforePositions() {
        var promotion = Promotion(epoch: epoch, oldSite: oldSite)
        _ = promotion.start(oldSiteReachable: true)
        #expect(promotion.epochRecorded(epoch: epoch) == .none)
        #expect(promotion.groupsPositioned(epoch: epoch, from: .live) == .none)
        #expect(promotion.step == .stopFlow)
        _ = promotion.flowStopped(epoch: epoch, drained: true)
        #expect(promotion.epochRecorded(epoch: epoch) == .none)
        #expect(promotion.step == .positionGroups)
    }

    @Test("outcomes for another epoch are ignored")
    func otherEpochIgnored() {
        var promotion = Promotion(epoch: epoch, oldSite: oldSite)
        _ = promotion.start(oldSiteReachable: true)
        #expect(promotion.flowStopped(epoch: Epoch(3), drained: true) == .none)
        #expect(promotion.flowStopped(epoch: Epoch(5), drained: true) == .none)
        #expect(promotion.step == .stopFlow)
    }

    @Test("live positioning failing falls back to checkpoints; checkpoints failing are retried with growing, capped back-off")
    func failures() {
        var promotion = Promotion(epoch: epoch, oldSite: oldSite, maxBackoff: .milliseconds(300))
        _ = promotion.start(oldSiteReachable: true)
        _ = promotion.flowStopped(epoch: epoch, drained: true)
        let checkpoints = Promotion.Action.positionGroups(epoch: epoch, from: oldSite, source: .checkpoints)
        #expect(promotion.positioningFailed(epoch: epoch, source: .live) == checkpoints)
        #expect(promotion.positioningFailed(epoch: epoch, source: .checkpoints) == .retry(after: .milliseconds(100), checkpoints))
        #expect(promotion.positioningFailed(epoch: epoch, source: .checkpoints) == .retry(after: .milliseconds(200), checkpoints))
        #expect(promotion.positioningFailed(epoch: epoch, source: .checkpoints) == .retry(after: .milliseconds(300), checkpoints))
        #expect(promotion.retries == 3)
        _ = promotion.groupsPositioned(epoch: epoch, from: .checkpoints)
        #expect(promotion.recordingFailed(epoch: epoch) == .retry(after: .milliseconds(300), .recordEpoch(epoch: epoch)))
    }

    @Test("a newer epoch supersedes an unfinished promotion: none of its actions are admitted any more")
    func superseded() {
        var promotion = Promotion(epoch: epoch, oldSite: oldSite)
        let first = promotion.start(oldSiteReachable: true)
        #expect(promotion.admits(first))
        #expect(promotion.supersede(by: Epoch(4)) == .none && promotion.step == .stopFlow)
        _ = promotion.supersede(by: Epoch(5))
        #expect(promotion.step == .superseded)
        #expect(!promotion.admits(first))
        #expect(promotion.flowStopped(epoch: epoch, drained: true) == .none)
    }
}
