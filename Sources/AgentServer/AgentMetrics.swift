import Consensus
import Orchestrator
import Prometheus

/// The agent's Prometheus metrics, on a registry of its own (several agents can run in one
/// process in tests, so nothing is bootstrapped globally).
public final class AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let epoch: Gauge
    let servingActive: Gauge
    let decisions: Counter
    let peerRefused: Counter
    let longPolls: Gauge
    let stateSaveFailures: Counter
    /// 1 while this agent's own site is the committed active site (whether or not it holds the
    /// lease: with `switchback_serving_active` it tells a lost lease apart from a standby).
    let ownSiteActive: Gauge
    /// Per configured site, 1 for the committed active site and 0 for the others.
    let activeSite: [String: Gauge]
    let ownSite: String?
    /// One gauge per sidecar state, 1 for what this agent tells applications now.
    let sidecarStates: [SidecarState: Gauge]

    /// - Parameters:
    ///   - ownSite: this agent's site (`nil` for a witness).
    ///   - sites: every configured site, so each has its `switchback_active_site_info` series.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), ownSite: String? = nil, sites: [String] = []) {
        self.registry = registry
        self.ownSite = ownSite
        ownSiteActive = registry.makeGauge(
            name: "switchback_own_site_active", help: "1 while this agent's own site is the committed active site.")
        var activeSite: [String: Gauge] = [:]
        for site in sites {
            activeSite[site] = registry.makeGauge(
                name: "switchback_active_site_info", labels: [("site", site)], help: "1 for the committed active site, 0 for the others.")
        }
        self.activeSite = activeSite
        var sidecarStates: [SidecarState: Gauge] = [:]
        for state in SidecarState.allCases {
            sidecarStates[state] = registry.makeGauge(
                name: "switchback_sidecar_state", labels: [("state", state.rawValue)],
                help: "1 for the state this agent's sidecar answers now (serving, promoting, switching, fenced).")
        }
        self.sidecarStates = sidecarStates
        epoch = registry.makeGauge(name: "switchback_election_epoch", help: "The committed epoch this agent knows.")
        servingActive = registry.makeGauge(name: "switchback_serving_active", help: "1 while this agent's site serves as active under a valid lease.")
        decisions = registry.makeCounter(name: "switchback_election_decisions_total", help: "Audit records the election emitted.")
        peerRefused = registry.makeCounter(name: "switchback_peer_requests_refused_total", help: "Peer requests refused (bad signature, stale, replayed).")
        longPolls = registry.makeGauge(name: "switchback_sidecar_long_polls", help: "Sidecar long-polls waiting now (at most http.max_long_polls).")
        stateSaveFailures = registry.makeCounter(
            name: "switchback_state_save_failures_total",
            help: "Election state saves that failed (disk full, read-only, I/O error): while they fail, no new configuration is adopted.")
    }

    /// Records what the sidecar answers now.
    func recordSidecar(_ current: SidecarState) {
        for (state, gauge) in sidecarStates { gauge.set(state == current ? 1.0 : 0.0) }
    }

    /// Records a newly adopted (or loaded) committed configuration.
    func recordCommitted(_ config: SiteConfig) {
        epoch.set(Double(config.epoch.rawValue))
        ownSiteActive.set(config.activeSite.rawValue == ownSite ? 1.0 : 0.0)
        for (site, gauge) in activeSite { gauge.set(site == config.activeSite.rawValue ? 1.0 : 0.0) }
    }

    /// The health gauge of probes of `site` (1 healthy, 0 not).
    func probeHealthy(site: String) -> Gauge {
        registry.makeGauge(name: "switchback_probe_healthy", labels: [("site", site)], help: "1 when the last probe of the site's cluster succeeded.")
    }

    func probeLatency(site: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            name: "switchback_probe_duration_seconds", labels: [("site", site)],
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5)],
            help: "Duration of cluster probes (metadata + canary round trip).")
    }

    func probeFailures(site: String) -> Counter {
        registry.makeCounter(name: "switchback_probe_failures_total", labels: [("site", site)], help: "Failed cluster probes.")
    }

    /// The whole registry in the Prometheus text format.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
