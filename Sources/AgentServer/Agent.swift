import AsyncHTTPClient
import Consensus
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchbackConfiguration
import Synchronization

/// One Switchback agent (DESIGN.md §6, §8) as a `Service`: the election loop, a tick every
/// 100 ms, a probe loop per site's cluster, peer messaging and the HTTP API.
///
/// `run()` returns after a graceful shutdown (SIGTERM under `ServiceGroup`): the HTTP server
/// drains, the loops stop, the audit log is flushed. It throws when the agent cannot work at
/// all (the listen address is taken, the state file is unreadable, librdkafka refuses a
/// property), with a message that says what to fix.
public final class Agent: Service {
    /// How often the election gets a `.tick`; finer than any probe interval so back-offs and
    /// lease expiry are noticed promptly.
    public static let tickInterval: Duration = .milliseconds(100)

    public let configuration: AgentConfiguration
    private let logger: Logger
    private let runtime = Mutex<(port: Int?, host: ElectionHost?)>((nil, nil))

    public init(configuration: AgentConfiguration, logger: Logger) {
        self.configuration = configuration
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
        let audit = try AuditLog(directory: configuration.dataDirectory)
        let metrics = AgentMetrics()
        let probeBoard = ProbeBoard()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let transport = PeerTransport(
            me: configuration.agentID, peers: configuration.peerURLs, secret: configuration.auth.peerSecret.revealed(),
            client: httpClient, timeout: max(configuration.detection.probeInterval, .milliseconds(500)), logger: logger)
        let host: ElectionHost
        let probes: [ClusterProbe]
        do {
            let voters = try configuration.voters()
            host = try await ElectionHost(
                agent: configuration.agentID, voters: voters, policy: configuration.electionPolicy(),
                initial: configuration.initialSiteConfig, dataDirectory: configuration.dataDirectory, peers: transport,
                audit: audit, metrics: metrics, logger: logger)
            probes = try configuration.sites.map { site in
                try ClusterProbe(
                    site: site.name.rawValue, agent: configuration.name.rawValue, bootstrapServers: site.bootstrapServers,
                    properties: site.librdkafkaProperties(), timeout: configuration.detection.probeTimeout, logger: logger)
            }
        } catch {
            try? await httpClient.shutdown()
            throw AgentError("the agent cannot start: \(error)")
        }
        runtime.withLock { $0.host = host }
        let api = AgentAPI(host: host, configuration: configuration, metrics: metrics, probes: probeBoard, logger: logger)
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: nil),
            onServerRunning: { [self, logger] channel in
                let port = channel.localAddress?.port
                self.runtime.withLock { $0.port = port }
                logger.notice("agent API listening", metadata: ["port": "\(port ?? -1)"])
            },
            logger: logger)

        defer { runtime.withLock { $0 = (nil, nil) } }
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>.self) { group in
            group.addTask { await Result(catching: { try await app.run() }) }
            group.addTask { await Result(catching: { try await host.run() }) }
            group.addTask { await Self.tickLoop(host); return .success(()) }
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
        await audit.flush()
        logger.notice("agent stopped")
        try outcome.get()
    }

    static func tickLoop(_ host: ElectionHost) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: tickInterval)
            host.submit(.tick)
        }
    }

    static func probeLoop(
        _ probe: ClusterProbe, host: ElectionHost, board: ProbeBoard, metrics: AgentMetrics, audit: AuditLog,
        interval: Duration, logger: Logger
    ) async {
        let healthy = metrics.probeHealthy(site: probe.site)
        let latency = metrics.probeLatency(site: probe.site)
        let failures = metrics.probeFailures(site: probe.site)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let outcome = await probe.probe()
            if Task.isCancelled { return }
            healthy.set(outcome.healthy ? 1.0 : 0.0)
            latency.record(outcome.latency)
            if !outcome.healthy { failures.increment() }
            let previous = board.record(site: probe.site, outcome)
            if previous != outcome.healthy && (previous != nil || !outcome.healthy) {
                let message = outcome.healthy
                    ? "cluster of \(probe.site) healthy again (probe \(outcome.latency))"
                    : "cluster of \(probe.site) probe failed: \(outcome.failure ?? "unknown")"
                logger.notice("\(message)")
                audit.append(AuditEntry(
                    time: Date(), agent: host.agent.rawValue, epoch: host.committed.epoch.rawValue, kind: "probe",
                    message: message, site: probe.site, healthy: outcome.healthy))
            }
            host.submit(.probeResult(site: Consensus.SiteID(probe.site), healthy: outcome.healthy))
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
