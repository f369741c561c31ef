import Testing

@Suite("Active-claim checker")
struct ActiveClaimCheckerTests {
    func poll(_ agent: String, _ at: Int, epoch: UInt64?, active: Bool) -> SidecarPoll {
        SidecarPoll(
            agent: agent, sent: .milliseconds(at), received: .milliseconds(at + 5), epoch: epoch, servingActive: active && epoch != nil)
    }

    @Test("a clean handover: a stops (fenced), then b starts in a higher epoch; no violation")
    func cleanHandover() {
        let polls = [
            poll("dc-a", 0, epoch: 0, active: true), poll("dc-a", 30, epoch: 0, active: true),
            poll("dc-a", 60, epoch: 0, active: false), poll("dc-a", 90, epoch: nil, active: false),
            poll("dc-a", 200, epoch: 1, active: false),
            poll("dc-b", 0, epoch: 0, active: false), poll("dc-b", 70, epoch: 0, active: false),
            poll("dc-b", 100, epoch: 1, active: true), poll("dc-b", 130, epoch: 1, active: true),
        ]
        let claims = ActiveClaimChecker.claims(from: polls)
        #expect(
            claims == [
                ActiveClaim(agent: "dc-a", epoch: 0, start: .milliseconds(0), end: .milliseconds(65)),
                ActiveClaim(agent: "dc-b", epoch: 1, start: .milliseconds(100), end: .milliseconds(135)),
            ])
        #expect(ActiveClaimChecker.violations(in: claims).isEmpty)
        #expect(ActiveClaimChecker.epochRegressions(in: polls).isEmpty)
        #expect(ActiveClaimChecker.handovers(in: claims) == 1)
    }

    @Test("a's claim extends to its next failed poll and so overlaps b's claim: found")
    func overlapThroughFailedPoll() {
        let polls = [
            poll("dc-a", 0, epoch: 0, active: true), poll("dc-a", 300, epoch: nil, active: false),
            poll("dc-b", 250, epoch: 1, active: true), poll("dc-b", 400, epoch: 1, active: false),
        ]
        let claims = ActiveClaimChecker.claims(from: polls)
        #expect(
            ActiveClaimChecker.violations(in: claims) == [
                .overlappingClaims(
                    ActiveClaim(agent: "dc-a", epoch: 0, start: .milliseconds(0), end: .milliseconds(305)),
                    ActiveClaim(agent: "dc-b", epoch: 1, start: .milliseconds(250), end: .milliseconds(405)))
            ])
    }

    @Test("two sites active in the same epoch is a violation even without overlap")
    func sameEpochApart() {
        let polls = [
            poll("dc-a", 0, epoch: 3, active: true), poll("dc-a", 30, epoch: 3, active: false),
            poll("dc-b", 500, epoch: 3, active: true), poll("dc-b", 530, epoch: 3, active: false),
        ]
        let violations = ActiveClaimChecker.violations(in: ActiveClaimChecker.claims(from: polls))
        #expect(violations.count == 1)
        #expect(violations.first.map { if case .sameEpochClaims = $0 { true } else { false } } == true)
    }

    @Test("one agent's claims never conflict with each other; an epoch change splits a claim")
    func sameAgentEpochChange() {
        let polls = [
            poll("dc-a", 0, epoch: 1, active: true), poll("dc-a", 30, epoch: 2, active: true),
            poll("dc-a", 60, epoch: 2, active: false),
        ]
        let claims = ActiveClaimChecker.claims(from: polls)
        #expect(claims.map(\.epoch) == [1, 2])
        #expect(ActiveClaimChecker.violations(in: claims).isEmpty)
        #expect(ActiveClaimChecker.handovers(in: claims) == 0)
    }

    @Test("an agent whose epoch goes back is reported, failed polls are ignored")
    func epochRegression() {
        let polls = [
            poll("w", 0, epoch: 2, active: false), poll("w", 30, epoch: nil, active: false),
            poll("w", 60, epoch: 1, active: false), poll("w", 90, epoch: 2, active: false),
        ]
        #expect(ActiveClaimChecker.epochRegressions(in: polls) == [.epochWentBack(agent: "w", from: 2, to: 1, at: .milliseconds(60))])
    }
}
