import Consensus
import Orchestrator
import Sites
import SwitchbackConfiguration
import Testing

@Suite("Flow plan")
struct FlowPlanTests {
    func config(_ epoch: UInt64, active: SiteID, standby: SiteID) -> SiteConfig {
        SiteConfig(epoch: Epoch(epoch), activeSite: active, mirrorDirection: MirrorDirection(from: active, to: standby), cause: .automaticFailover)
    }

    @Test("flows: auto — the flow from the active site runs at every other member site; none at the active site or a witness")
    func auto() {
        let atB = FlowPlan(ownSite: "dc-b", role: .member, settings: .auto)
        let atC = FlowPlan(ownSite: "dc-c", role: .member, settings: .auto)
        let atA = FlowPlan(ownSite: "dc-a", role: .member, settings: .auto)
        let witness = FlowPlan(ownSite: nil, role: .witness, settings: .auto)
        let e0 = config(0, active: "dc-a", standby: "dc-b")
        #expect(atB.routes(for: e0) == [FlowRoute(from: "dc-a", to: "dc-b")])
        #expect(atC.routes(for: e0) == [FlowRoute(from: "dc-a", to: "dc-c")])
        #expect(atA.routes(for: e0).isEmpty)
        #expect(witness.routes(for: e0).isEmpty)
    }

    @Test("explicit flows into this site run whatever the election says")
    func fixed() {
        let hub = FlowPlan(
            ownSite: "hub", role: .member,
            settings: .fixed([FlowRoute(from: "dc-a", to: "hub"), FlowRoute(from: "dc-b", to: "hub"), FlowRoute(from: "hub", to: "dc-a")]))
        let expected: Set = [FlowRoute(from: "dc-a", to: "hub"), FlowRoute(from: "dc-b", to: "hub")]
        #expect(hub.routes(for: config(0, active: "hub", standby: "dc-a")) == expected)
        #expect(hub.routes(for: config(7, active: "dc-a", standby: "hub")) == expected)
        #expect(hub.changes(running: expected, previous: config(0, active: "hub", standby: "dc-a"), config: config(7, active: "dc-a", standby: "hub")).isEmpty)
    }

    @Test("failover dc-a → dc-b: dc-b stops its flow; dc-a starts the reverse flow, reverseOf the old one, after reconcile")
    func failover() {
        let e0 = config(0, active: "dc-a", standby: "dc-b")
        let e1 = config(1, active: "dc-b", standby: "dc-a")
        let forward = FlowRoute(from: "dc-a", to: "dc-b")
        let reverse = FlowRoute(from: "dc-b", to: "dc-a")
        let atB = FlowPlan(ownSite: "dc-b", role: .member, settings: .auto)
        #expect(atB.changes(running: [forward], previous: e0, config: e1) == FlowChanges(stop: [forward]))
        let atA = FlowPlan(ownSite: "dc-a", role: .member, settings: .auto)
        #expect(atA.changes(running: [], previous: e0, config: e1)
            == FlowChanges(start: [FlowStart(route: reverse, reverseOf: forward, reconcileFirst: true)]))
        // Failback e1 → e2: dc-a is promoted and stops the reverse flow; dc-b starts the forward
        // flow again as the reverse of the reverse — no reconcile, dc-b handed over in a planned move.
        let e2 = SiteConfig(epoch: Epoch(2), activeSite: "dc-a", mirrorDirection: MirrorDirection(from: "dc-a", to: "dc-b"), cause: .operatorSwitchover)
        #expect(atA.changes(running: [reverse], previous: e1, config: e2) == FlowChanges(stop: [reverse]))
        #expect(atB.changes(running: [], previous: e1, config: e2).start == [FlowStart(route: forward, reverseOf: reverse, reconcileFirst: true)])
        // A first start (no previous configuration) is no reverse flow.
        #expect(atB.changes(running: [], previous: nil, config: e0) == FlowChanges(start: [FlowStart(route: forward)]))
    }

    @Test("a reverse flow that could not start yet keeps reverseOf and reconcile-first in later rounds, whose previous configuration is already the new one")
    func pendingReverseFlow() {
        let e0 = config(0, active: "dc-a", standby: "dc-b")
        let e1 = config(1, active: "dc-b", standby: "dc-a")
        let forward = FlowRoute(from: "dc-a", to: "dc-b")
        let reverse = FlowRoute(from: "dc-b", to: "dc-a")
        let atA = FlowPlan(ownSite: "dc-a", role: .member, settings: .auto)
        let first = atA.changes(running: [], previous: e0, config: e1)
        #expect(first.start == [FlowStart(route: reverse, reverseOf: forward, reconcileFirst: true)])
        // Its reconcile failed (dc-a's cluster still unreachable, or a topic missing at dc-b):
        // the data plane acted on e1 already, so the next round compares e1 with e1. Alone, that
        // looks like a first start, which would copy into dc-a unreconciled and leave it fenced.
        #expect(atA.changes(running: [], previous: e1, config: e1).start == [FlowStart(route: reverse)])
        #expect(atA.changes(running: [], previous: e1, config: e1, pending: first.start) == first)
        // A newer epoch that still wants the flow keeps the pending decisions too.
        let e3 = config(3, active: "dc-b", standby: "dc-a")
        #expect(atA.changes(running: [], previous: e1, config: e3, pending: first.start) == first)
        // Once dc-a is active again the flow into it is not wanted: nothing pending is started.
        let e2 = SiteConfig(epoch: Epoch(2), activeSite: "dc-a", mirrorDirection: MirrorDirection(from: "dc-a", to: "dc-b"), cause: .operatorSwitchover)
        #expect(atA.changes(running: [], previous: e1, config: e2, pending: first.start).isEmpty)
        // A pending plain start does not take a later reverse start's decisions away.
        #expect(atA.changes(running: [], previous: e0, config: e1, pending: [FlowStart(route: reverse)]) == first)
    }
}
