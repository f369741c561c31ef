import Consensus
import Sites
import SwitchbackConfiguration

/// Which flows an agent runs for a committed configuration, and what changes between two
/// configurations: the decisions of ``FlowSupervisor``, without I/O.
///
/// A flow runs at its target site (DESIGN.md §5). With `mirror.flows: auto` the flow from the
/// active site runs at every other member site; with an explicit list, every listed flow into
/// this site runs whatever the election says. A witness runs none.
public struct FlowPlan: Sendable, Hashable {
    public var ownSite: SiteID?
    public var role: AgentRole
    public var settings: FlowSettings

    public init(ownSite: SiteID?, role: AgentRole, settings: FlowSettings) {
        self.ownSite = ownSite
        self.role = role
        self.settings = settings
    }

    /// The flows this agent runs under `config`.
    public func routes(for config: SiteConfig) -> Set<FlowRoute> {
        guard role == .member, let ownSite else { return [] }
        switch settings {
        case .fixed(let routes):
            return Set(routes.filter { $0.to == ownSite })
        case .auto:
            return ownSite == config.activeSite ? [] : [FlowRoute(from: config.activeSite, to: ownSite)]
        }
    }

    /// What changes when this agent moves from running `running` to `config`.
    ///
    /// A started flow whose opposite direction ran before (or ran under `previous`) is a
    /// reverse flow: it resumes exactly through the old direction's offset map (`reverseOf`),
    /// and when it copies into a site that was active (this agent's site was demoted), the
    /// records that site took but never mirrored must be reconciled first, so it is held
    /// until then.
    ///
    /// - Parameter pending: starts decided in an earlier round that have not happened yet (the
    ///   reconcile failed, the returned cluster was still unreachable). By the next round
    ///   `previous` is the configuration they were decided for, so the demotion and the old
    ///   direction can no longer be seen from it; a pending start keeps its `reverseOf` and
    ///   `reconcileFirst` for as long as its route is still to be started.
    public func changes(
        running: Set<FlowRoute>, previous: SiteConfig?, config: SiteConfig, pending: [FlowStart] = []
    ) -> FlowChanges {
        let desired = routes(for: config)
        let ranBefore = running.union(previous.map(routes(for:)) ?? [])
        var changes = FlowChanges()
        changes.stop = running.subtracting(desired).sorted()
        for route in desired.subtracting(running).sorted() {
            let opposite = FlowRoute(from: route.to, to: route.from)
            let reverse = ranBefore.contains(opposite) || previous.map { $0.mirrorDirection == MirrorDirection(from: route.to, to: route.from) } == true
            let demoted = previous?.activeSite == ownSite && config.activeSite != ownSite
            var start = FlowStart(route: route, reverseOf: reverse ? opposite : nil, reconcileFirst: reverse && demoted)
            if let earlier = pending.first(where: { $0.route == route }) {
                start.reverseOf = start.reverseOf ?? earlier.reverseOf
                start.reconcileFirst = start.reconcileFirst || earlier.reconcileFirst
            }
            changes.start.append(start)
        }
        return changes
    }
}

/// The flows to stop and to start, in that order.
public struct FlowChanges: Sendable, Hashable {
    public var stop: [FlowRoute] = []
    public var start: [FlowStart] = []

    public init(stop: [FlowRoute] = [], start: [FlowStart] = []) {
        self.stop = stop
        self.start = start
    }

    public var isEmpty: Bool { stop.isEmpty && start.isEmpty }
}

/// One flow to start.
public struct FlowStart: Sendable, Hashable, Codable {
    public var route: FlowRoute
    /// The forward flow this one reverses (its map says what to skip and where to start).
    public var reverseOf: FlowRoute?
    /// Whether the returned site's unmirrored records must be reconciled before it starts.
    public var reconcileFirst: Bool

    public init(route: FlowRoute, reverseOf: FlowRoute? = nil, reconcileFirst: Bool = false) {
        self.route = route
        self.reverseOf = reverseOf
        self.reconcileFirst = reconcileFirst
    }
}

extension FlowRoute: Comparable, CustomStringConvertible {
    public static func < (lhs: FlowRoute, rhs: FlowRoute) -> Bool {
        (lhs.from.rawValue, lhs.to.rawValue) < (rhs.from.rawValue, rhs.to.rawValue)
    }

    public var description: String { "\(from)→\(to)" }
}
