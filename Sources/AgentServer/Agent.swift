import Alerts
import AsyncHTTPClient
import Consensus
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Sites
import SwitchbackConfiguration
import Synchronization

/// One Switchback agent (DESIGN.md §6, §8) as a `Service`: the election loop, a tick every
/// few tens of milliseconds (see `tickInterval`), a probe loop per site's cluster, peer messaging and the HTTP API.
///
/// `run()` returns after a graceful shutdown (SIGTERM under `ServiceGroup`): the HTTP server
/// drains, the loops stop, the audit log is flushed. It throws when the agent cannot work at
/// all (the listen address is taken, the state file is unreadable, librdkafka refuses a
/// property), with a message that says what to fix.
public final class Agent: Service {
    /// How often the election gets a `.tick`: a candidate's random back-off only takes
    /// effect at a tick, so ticks must be fine compared with the back-off range or agents
    /// that planned different back-offs start in the same tick and split the vote. 1/40 of
    /// `failover.candidate_backoff`, between 10 ms and 100 ms (50 ms with the defaults).
    public static func tickInterval(candidateBackoff: Duration) -> Duration {
        min(max(candidateBackoff / 40, .milliseconds(10)), .milliseconds(100))
    }

    public let configuration: AgentConfiguration
    private let logger: Logger
    private let runtime = Mutex<(port: Int?, host: ElectionHost?)>((nil, nil))

    /// How long the agent waits at start for a first good probe of every cluster.
    public let warmUpLimit: Duration

    /// - Parameter warmUpLimit: the longest wait at start for the clusters' first good
    ///   probes (see `run()`); default 10 s.
    public init(configuration: AgentConfiguration, logger: Logger, warmUpLimit: Duration = .seconds(10)) {
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
        let server = try AgentTLS.listener(tls)
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
        let httpClient = tls.map { HTTPClient(eventLoopGroupProvider: .singleton, configuration: $0.httpClientConfiguration()) }
            ?? HTTPClient(eventLoopGroupProvider: .singleton)
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
                audit: audit, metrics: metrics, logger: logger)
        } catch {
            for probe in probes { await probe.shutdown() }
            try? await httpClient.shutdown()
            try? await alertClient.shutdown()
            throw AgentError("the agent cannot start: \(error)")
        }
        runtime.withLock { $0.host = host }
        let api = AgentAPI(host: host, configuration: configuration, metrics: metrics, probes: probeBoard, logger: logger, alerts: alerts)
        let app = Application(
            router: api.router(),
            server: server,
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: nil),
            onServerRunning: { [self, logger] channel in
                let port = channel.localAddress?.port
                self.runtime.withLock { $0.port = port }
                logger.notice("agent API listening", metadata: ["port": "\(port ?? -1)", "tls": "\(tls.map(\.description) ?? "off")"])
            },
            logger: logger)

        defer { runtime.withLock { $0 = (nil, nil) } }
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>.self) { group in
            group.addTask { await Result(catching: { try await app.run() }) }
            group.addTask { await Result(catching: { try await host.run() }) }
            if let alerts {
                // Ends only when cancelled (not at graceful shutdown, which would end the group
                // before the HTTP server has drained); what is undelivered stays in the outbox.
                group.addTask { await alerts.deliver(); return .success(()) }
            }
            let tick = Self.tickInterval(candidateBackoff: configuration.electionPolicy().candidateBackoff)
            group.addTask { await Self.tickLoop(host, every: tick); return .success(()) }
            for probe in probes {
                group.addTask { [logger] in
                    await Self.probeLoop(probe, host: host, board: probeBoard, metrics: metrics, audit: audit,
                                         interval: configuration.detection.probeInterval, logger: logger)
                    return .success(())
                }
            }
            // The HTTP server returns after a graceful shutdown; anything ending first is a failure.
            let first = await group.next() ?? .success(())
            group.cancelAll()
            host.finish()
            while await group.next() != nil {}
            return first
        }
        for probe in probes { await probe.shutdown() }
        try? await httpClient.shutdown()
        try? await alertClient.shutdown()
        await audit.flush()
        logger.notice("agent stopped")
        try outcome.get()
    }

    static func tickLoop(_ host: ElectionHost, every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            host.submit(.tick)
        }
    }

    static func probeLoop(
        _ probe: ClusterProbe, host: ElectionHost, board: ProbeBoard, metrics: AgentMetrics, audit: AuditLog,
        interval: Duration, logger: Logger
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
            if previous != outcome.healthy && (previous != nil || !outcome.healthy) {
                let message = outcome.healthy
                    ? "cluster of \(probe.site) healthy again (probe \(outcome.latency))"
                    : "cluster of \(probe.site) probe failed: \(outcome.failure ?? "unknown")"
                logger.notice("\(message)")
                audit.append(AuditEntry(
                    time: Date(), agent: host.agent.rawValue, epoch: host.committed.epoch.rawValue, kind: "probe",
                    message: message, site: probe.site.rawValue, healthy: outcome.healthy))
            }
            host.submit(.probeResult(site: probe.site, healthy: outcome.healthy))
            try? await Task.sleep(until: started + interval, clock: .continuous)
        }
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
