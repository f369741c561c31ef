import Alerts
import AsyncHTTPClient
import Consensus
import Foundation
import Hummingbird
import Logging
import NIOCore
import Orchestrator
import Prometheus
import ServiceLifecycle
import Sites
import SwitchbackConfiguration
import Synchronization

/// One Switchback agent (DESIGN.md §6, §8) as a `Service`: the election loop, a timer that
/// wakes it at its next deadline (`ElectionHost.runTimer`), a probe loop per site's cluster,
/// peer messaging, alert delivery and the HTTP API, each a `Service` under one `ServiceGroup`.
///
/// `run()` returns after a graceful shutdown (SIGTERM under `ServiceGroup`): the HTTP server
/// drains, the loops stop, the audit log is flushed. It throws when the agent cannot work at
/// all (the listen address is taken, the state file is unreadable, librdkafka refuses a
/// property), with a message that says what to fix.
public final class Agent: Service {
    public let configuration: AgentConfiguration
    private let logger: Logger
    private let runtime = Mutex<(port: Int?, host: ElectionHost?)>((nil, nil))

    /// How long the agent waits at start for a first good probe of every cluster.
    public let warmUpLimit: Duration
    /// Whether the election starts in rejoin mode (`switchback agent --rejoin`).
    public let rejoin: Bool
    /// Where the runbooks are (`NAME.yaml`), for the agent's runbook engine.
    public let runbooksDirectory: String

    /// - Parameter warmUpLimit: the longest wait at start for the clusters' first good
    ///   probes (see `run()`); default 10 s.
    /// - Parameter rejoin: start as a voter without durable state (see `ElectionHost`).
    /// - Parameter runbooksDirectory: the runbooks the agent runs; default: see `AgentRunbooks.defaultDirectory()`.
    public init(
        configuration: AgentConfiguration, logger: Logger, warmUpLimit: Duration = .seconds(10), rejoin: Bool = false,
        runbooksDirectory: String? = nil
    ) {
        self.rejoin = rejoin
        self.runbooksDirectory = runbooksDirectory ?? AgentRunbooks.defaultDirectory()
        self.configuration = configuration
        self.warmUpLimit = warmUpLimit
        var logger = logger
        logger[metadataKey: "agent"] = "\(configuration.name)"
        self.logger = logger
    }

    /// The port the HTTP API listens on, once it does (useful with `listen: 127.0.0.1:0`).
    public var listeningPort: Int? { runtime.withLock { $0.port } }

    /// The election host while the agent runs (tests and embedding).
    public var electionHost: ElectionHost? { runtime.withLock { $0.host } }


    public func run() async throws {
        let configuration = self.configuration
        do {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw AgentError("cannot create data_dir \(configuration.dataDirectory): \(error.localizedDescription)")
        }
        for warning in configuration.warnings { logger.warning("\(warning)") }
        let metrics = AgentMetrics(ownSite: configuration.ownSite?.name.rawValue, sites: configuration.sites.map(\.name.rawValue))
        let probeBoard = ProbeBoard()
        let tls: AgentTLS?
        do {
            tls = try configuration.tls.map { settings throws(ConfigurationError) in try AgentTLS(settings) }
        } catch {
            throw AgentError("the agent cannot start: \(error)")
        }
        let server = try AgentTLS.listener(tls, idleTimeout: configuration.http.idleTimeout)
        // Its own client: webhooks are outside the agents' CA and must not share their TLS trust.
        let alertClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let alerts: AlertDispatcher?
        do {
            alerts = try AgentAlerts.dispatcher(configuration, client: alertClient, logger: logger)
        } catch {
            try? await alertClient.shutdown()
            throw error
        }
        let ownSite = configuration.ownSite?.name.rawValue
        // The sidecar board is built once the election and data plane exist; the parts built
        // before it reach it through here to wake long-polls.
        let sidecarSlot = SidecarBoard.Relay()
        var observer: (@Sendable (AuditEntry) -> Void)? = nil
        if let alerts {
            observer = { [weak self] (entry: AuditEntry) -> Void in
                let activeSite = self?.electionHost?.committed.activeSite.rawValue
                if let alert = AgentAlerts.alert(for: entry, ownSite: ownSite, activeSite: activeSite) { alerts.raise(alert) }
            }
        }
        let audit: AuditLog
        do {
            audit = try AuditLog(directory: configuration.dataDirectory, observer: observer)
        } catch {
            try? await alertClient.shutdown()
            throw error
        }
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: AgentTLS.peerClientConfiguration(tls))
        let transport = PeerTransport(
            me: configuration.agentID, peers: configuration.peerURLs, secret: configuration.auth.peerSecret.revealed(),
            client: httpClient, timeout: max(configuration.detection.probeInterval, .milliseconds(500)), logger: logger)
        let probes: [ClusterProbe]
        do {
            probes = try configuration.sites.map { site in
                try ClusterProbe(
                    site: site.name, agent: configuration.name.rawValue, bootstrapServers: site.bootstrapServers,
                    properties: site.librdkafkaProperties(), timeout: configuration.detection.probeTimeout, logger: logger)
            }
        } catch {
            try? await httpClient.shutdown()
            try? await alertClient.shutdown()
            throw AgentError("the agent cannot start: the Kafka settings of a site were refused: \(error)")
        }
        // Before the election starts its clock: the failure detector gives probes only
        // `down_after` to report, which a cold client (connection, topic creation, metadata)
        // may need more than. A cluster that is really down just costs this wait.
        let deadline = ContinuousClock.now + warmUpLimit
        let cold = await withTaskGroup(of: String?.self) { group in
            for probe in probes { group.addTask { await probe.warmUp(until: deadline) ? nil : probe.site.rawValue } }
            var cold: [String] = []
            for await site in group { if let site { cold.append(site) } }
            return cold.sorted()
        }
        if !cold.isEmpty { logger.warning("no good probe at start", metadata: ["sites": "\(cold)"]) }
        let host: ElectionHost
        do {
            host = try await ElectionHost(
                agent: configuration.agentID, voters: try configuration.voters(), policy: configuration.electionPolicy(),
                initial: configuration.initialSiteConfig, dataDirectory: configuration.dataDirectory, peers: transport,
                audit: audit, metrics: metrics, logger: logger, rejoin: rejoin)
        } catch {
            for probe in probes { await probe.shutdown() }
            try? await httpClient.shutdown()
            try? await alertClient.shutdown()
            throw AgentError("the agent cannot start: \(error)")
        }
        runtime.withLock { $0.host = host }
        let dataPlane = Self.dataPlane(
            configuration, host: host, audit: audit, sidecar: sidecarSlot, logger: logger,
            metricsFactory: PrometheusMetricsFactory(registry: metrics.registry))
        let ownSiteID = configuration.ownSite?.name
        var agentURLs: [SiteID: String] = [:]
        for site in configuration.sites { agentURLs[site.name] = site.agentURL }
        let watcher = ActiveSiteWatcher(
            ownSite: ownSiteID, agentURLs: agentURLs, committed: { host.committed }, client: httpClient,
            wait: configuration.detection.lease, freshness: configuration.detection.lease, logger: logger,
            onChange: { sidecarSlot.refresh() })
        var bootstrap: [String: [String]] = [:]
        for site in configuration.sites { bootstrap[site.name.rawValue] = site.bootstrapServers }
        let majority = try configuration.voters().majority
        let sidecar = SidecarBoard { [bootstrap] in
            let answer = AgentAPI.answer(
                host: host, bootstrap: bootstrap, ownSite: ownSiteID, majority: majority, phase: dataPlane?.phase,
                announcement: watcher.announcement)
            metrics.recordSidecar(answer.state)
            return answer
        }
        sidecarSlot.connect(sidecar)
        var api = AgentAPI(
            host: host, configuration: configuration, metrics: metrics, probes: probeBoard, sidecar: sidecar, dataPlane: dataPlane,
            logger: logger, alerts: alerts)
        let runner: RunbookRunner
        do {
            runner = try runbookRunner(host: host, dataPlane: dataPlane, probes: probeBoard, client: httpClient, audit: audit, alerts: alerts)
        } catch {
            try? await httpClient.shutdown()
            try? await alertClient.shutdown()
            throw error
        }
        api.runbooks = runner
        let app = Application(
            router: api.router(),
            server: server,
            configuration: .init(
                address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: nil,
                // Beyond the cap, connections wait in the accept queue until others close.
                availableConnectionsDelegate: .maximum(configuration.http.maxConnections, logger: logger)),
            onServerRunning: { [self, logger] channel in
                let port = channel.localAddress?.port
                self.runtime.withLock { $0.port = port }
                logger.notice("agent API listening", metadata: ["port": "\(port ?? -1)", "tls": "\(tls.map(\.description) ?? "off")"])
            },
            logger: logger)

        defer { runtime.withLock { $0 = (nil, nil) } }
        // Started in this order and shut down in the reverse one: the HTTP server drains first
        // (sidecars and operators get their answers), the election keeps running while it does,
        // and alert delivery stops last so the alerts raised while stopping are stored.
        var services: [any Service] = []
        if let alerts { services.append(alerts) }
        services.append(ElectionLoopService(host: host))
        services.append(ElectionTimerService(host: host))
        for probe in probes {
            services.append(ProbeService(
                probe: probe, host: host, board: probeBoard, metrics: metrics, audit: audit, dataPlane: dataPlane,
                interval: configuration.detection.probeInterval, logger: logger))
        }
        if let dataPlane {
            services.append(dataPlane.supervisor)
            services.append(dataPlane)
        }
        services.append(watcher)
        services.append(RunbookService(runner: runner, logger: logger))
        services.append(SidecarRefreshService(board: sidecar, configs: host.board))
        services.append(app)
        // Any part ending on its own (before a graceful shutdown) or failing ends the agent:
        // a half-running agent would answer sidecars without an election behind the answers.
        // It ends gracefully, so the HTTP server still drains its connections (cancelling it
        // with connections not yet served traps in NIO).
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) },
            logger: logger))
        let outcome = await Result(catching: { try await group.run() })
        try? await httpClient.shutdown()
        try? await alertClient.shutdown()
        await audit.flush()
        logger.notice("agent stopped")
        try outcome.get()
    }

    static func probeLoop(
        _ probe: ClusterProbe, host: ElectionHost, board: ProbeBoard, metrics: AgentMetrics, audit: AuditLog,
        dataPlane: DataPlane? = nil, interval: Duration, logger: Logger
    ) async {
        let healthy = metrics.probeHealthy(site: probe.site.rawValue)
        let latency = metrics.probeLatency(site: probe.site.rawValue)
        let failures = metrics.probeFailures(site: probe.site.rawValue)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let outcome = await probe.probe()
            if Task.isCancelled { return }
            healthy.set(outcome.healthy ? 1.0 : 0.0)
            latency.record(outcome.latency)
            if !outcome.healthy { failures.increment() }
            let previous = board.record(site: probe.site.rawValue, outcome)
            dataPlane?.noteProbe(site: probe.site, healthy: outcome.healthy)
            if previous != outcome.healthy && (previous != nil || !outcome.healthy) {
                let message = outcome.healthy
                    ? "cluster of \(probe.site) healthy again (probe \(outcome.latency))"
                    : "cluster of \(probe.site) probe failed: \(outcome.failure ?? "unknown")"
                logger.notice("\(message)")
                audit.append(AuditEntry(
                    time: Date(), agent: host.agent.rawValue, epoch: host.committed.epoch.rawValue, kind: "probe",
                    message: message, site: probe.site.rawValue, healthy: outcome.healthy))
            }
            host.submit(.probeResult(site: probe.site, healthy: outcome.healthy, observedAt: host.instant(of: started)))
            try? await Task.sleep(until: started + interval, clock: .continuous)
        }
    }
}

extension Agent {
    /// The agent's runbook engine: the generic actions and every data-plane action of the
    /// shipped runbooks, acting through this agent's election and the sites' agents.
    /// - Throws: `AgentError` when an action the runbooks name is missing (a wiring bug).
    func runbookRunner(
        host: ElectionHost, dataPlane: DataPlane?, probes: ProbeBoard, client: HTTPClient, audit: AuditLog, alerts: AlertDispatcher?
    ) throws(AgentError) -> RunbookRunner {
        let sink = AgentRunbooks.sink(audit: audit, alerts: alerts, agent: host.agent.rawValue, site: configuration.ownSite?.name.rawValue)
        let control = AgentDataPlaneControl(configuration: configuration, host: host, dataPlane: dataPlane, probes: probes, client: client)
        let registry: StepActionRegistry
        do {
            registry = try DataPlaneActions(control: control, fencing: FencingActions(configuration: configuration, logger: logger)).registry(sink: sink)
        } catch {
            throw AgentError("the agent cannot start its runbook engine: \(error)")
        }
        let missing = registry.missing()
        guard missing.isEmpty else { throw AgentError("the agent's runbook engine lacks the actions \(missing.joined(separator: ", "))") }
        return RunbookRunner(
            runbooksDirectory: runbooksDirectory, dataDirectory: configuration.dataDirectory, registry: registry,
            currentEpoch: { host.board.current.config.epoch }, sink: sink, logger: logger)
    }

    /// This member site's data plane (`nil` for a witness): the flows into it and its promotions.
    static func dataPlane(
        _ configuration: AgentConfiguration, host: ElectionHost, audit: AuditLog, sidecar: SidecarBoard.Relay, logger: Logger,
        metricsFactory: PrometheusMetricsFactory
    ) -> DataPlane? {
        guard configuration.role == .member, let ownSite = configuration.ownSite?.name else { return nil }
        let plan = FlowPlan(ownSite: ownSite, role: configuration.role, settings: configuration.mirror.flows)
        let supervisor = FlowSupervisor(
            plan: plan, dataDirectory: configuration.dataDirectory, holder: "switchback agent \(configuration.name)",
            configure: { route, _ throws(ConfigurationError) in try configuration.flowConfiguration(route) }, logger: logger,
            metricsFactory: metricsFactory)
        let agent = host.agent.rawValue
        let environment = DataPlane.Environment(
            ownSite: ownSite, initial: configuration.initialSiteConfig, committed: { host.committed },
            nextCommit: { epoch, timeout in _ = await host.board.wait(after: epoch.rawValue, timeout: timeout) },
            flowConfiguration: { route throws(ConfigurationError) in try configuration.flowConfiguration(route) },
            audit: { kind, epoch, message in
                logger.notice("\(message)", metadata: ["kind": "\(kind)"])
                audit.append(AuditEntry(time: Date(), agent: agent, epoch: epoch.rawValue, kind: kind, message: message))
            },
            onChange: { sidecar.refresh() })
        return DataPlane(environment: environment, supervisor: supervisor, dataDirectory: configuration.dataDirectory, logger: logger)
    }
}

extension Result where Failure == any Error {
    fileprivate init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
