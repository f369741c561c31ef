import Consensus
import Testing

@Suite("Failure detector")
struct FailureDetectorTests {
    @Test func siteIsSubjectivelyDownAfterDownAfterWithoutAGoodProbe() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.witness)
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: true, observedAt: clock.now), now: clock.now)
        clock.advance(by: .milliseconds(1400))
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: false, observedAt: clock.now), now: clock.now)
        #expect(election.status(now: clock.now).sites[0].subjectivelyDown == false, "1.4 s < down_after")
        clock.advance(by: .milliseconds(100))
        #expect(election.status(now: clock.now).sites[0].subjectivelyDown == true, "1.5 s without a good probe")
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: true, observedAt: clock.now), now: clock.now)
        #expect(election.status(now: clock.now).sites[0].subjectivelyDown == false, "a good probe clears it")
    }

    @Test func objectivelyDownNeedsAMajorityOfFreshViews() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.witness)
        // The witness stops getting good probes of dc-a; dc-b's probes stay good.
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteB])
        var view = election.status(now: clock.now).sites[0]
        #expect(view.subjectivelyDown && !view.objectivelyDown, "one voter of three is not a majority")

        _ = election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA]), now: clock.now)
        view = election.status(now: clock.now).sites[0]
        #expect(view.objectivelyDown)
        #expect(view.seenDownBy == [Fixture.agentB, Fixture.witness])

        // dc-b's heartbeat goes stale (3 s) and no newer one arrives.
        _ = Drive.run(&election, clock: &clock, for: .seconds(3) + .milliseconds(100), healthy: [Fixture.siteB])
        view = election.status(now: clock.now).sites[0]
        #expect(!view.objectivelyDown, "a stale heartbeat does not count")
    }

    @Test func peersAloneDoNotOverruleAHealthyOwnViewWithoutAMajority() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.witness)
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteA, Fixture.siteB])
        _ = election.handle(Drive.heartbeat(from: Fixture.agentB, down: [Fixture.siteA]), now: clock.now)
        #expect(!election.status(now: clock.now).sites[0].objectivelyDown)
    }

    @Test func healthyStreakRestartsAfterAFailedProbe() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.witness)
        _ = Drive.run(&election, clock: &clock, for: .seconds(3), healthy: [Fixture.siteA, Fixture.siteB])
        #expect((election.status(now: clock.now).sites[0].healthyFor ?? .zero) >= .milliseconds(2900))
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: false, observedAt: clock.now), now: clock.now)
        #expect(election.status(now: clock.now).sites[0].healthyFor == nil)
        clock.advance(by: .milliseconds(100))
        _ = election.handle(.probeResult(site: Fixture.siteA, healthy: true, observedAt: clock.now), now: clock.now)
        #expect(election.status(now: clock.now).sites[0].healthyFor == .zero)
    }
}
