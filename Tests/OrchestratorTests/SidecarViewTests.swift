import Consensus
import Orchestrator
import Sites
import Testing

@Suite("Sidecar state")
struct SidecarViewTests {
    let e1 = SiteConfig(epoch: Epoch(1), activeSite: "dc-b", mirrorDirection: MirrorDirection(from: "dc-b", to: "dc-a"), cause: .automaticFailover)

    func view(
        own: SiteID?, serving: Bool = false, majority: Bool = true, phase: DataPlanePhase, heard: SidecarView.Announcement? = nil
    ) -> SidecarView {
        SidecarView(committed: e1, ownSite: own, servingHere: serving, hasMajority: majority, phase: phase, announcement: heard)
    }

    @Test("at the new active site: promoting until the promotion is done, even with the lease; then serving; fenced without the lease")
    func activeSite() {
        #expect(view(own: "dc-b", serving: true, phase: .promoting(Epoch(1), step: .positionGroups)).state == .promoting)
        #expect(view(own: "dc-b", serving: true, phase: .serving(Epoch(0))).state == .promoting)
        #expect(view(own: "dc-b", serving: true, phase: .serving(Epoch(1))).state == .serving)
        #expect(view(own: "dc-b", serving: false, phase: .serving(Epoch(1))).state == .fenced)
        #expect(view(own: "dc-b", serving: true, phase: .switching(Epoch(1), step: "drain")).state == .switching)
    }

    @Test("elsewhere: the active site's own answer for the same epoch; fenced without a majority or a fresh answer")
    func elsewhere() {
        let serving = SidecarView.Announcement(epoch: Epoch(1), state: .serving, servingHere: true)
        let promoting = SidecarView.Announcement(epoch: Epoch(1), state: .promoting, servingHere: true)
        #expect(view(own: nil, phase: .following(Epoch(1)), heard: serving).state == .serving)
        #expect(view(own: "dc-a", phase: .following(Epoch(1)), heard: promoting).state == .promoting)
        #expect(view(own: "dc-a", phase: .following(Epoch(1)), heard: nil).state == .fenced)
        #expect(view(own: "dc-a", majority: false, phase: .following(Epoch(1)), heard: serving).state == .fenced)
        let leaseLost = SidecarView.Announcement(epoch: Epoch(1), state: .serving, servingHere: false)
        #expect(view(own: nil, phase: .following(Epoch(1)), heard: leaseLost).state == .fenced)
        let newer = SidecarView.Announcement(epoch: Epoch(2), state: .serving, servingHere: true)
        #expect(view(own: nil, phase: .following(Epoch(1)), heard: newer).state == .promoting)
        let older = SidecarView.Announcement(epoch: Epoch(0), state: .serving, servingHere: true)
        #expect(view(own: nil, phase: .following(Epoch(1)), heard: older).state == .promoting)
    }
}
