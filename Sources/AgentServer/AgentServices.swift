import Logging
import Orchestrator
import ServiceLifecycle

/// The election's event loop as a `Service`: graceful shutdown lets the events already queued
/// finish (their persists and replies), then the loop ends.
struct ElectionLoopService: Service {
    let host: ElectionHost

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await host.run()
        } onGracefulShutdown: {
            host.finish()
        }
    }
}

/// The election's timer (`ElectionHost.runTimer`, waking it at its next deadline) as a
/// `Service`; it stops at graceful shutdown.
struct ElectionTimerService: Service {
    let host: ElectionHost

    func run() async {
        await cancelWhenGracefulShutdown { await host.runTimer() }
    }
}

/// One cluster's probe loop (`Agent.probeLoop`) as a `Service`; at graceful shutdown it stops
/// and closes the probe's Kafka clients.
struct ProbeService: Service {
    let probe: ClusterProbe
    let host: ElectionHost
    let board: ProbeBoard
    let metrics: AgentMetrics
    let audit: AuditLog
    let dataPlane: DataPlane?
    let interval: Duration
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            await Agent.probeLoop(
                probe, host: host, board: board, metrics: metrics, audit: audit, dataPlane: dataPlane, interval: interval, logger: logger)
        }
        await probe.shutdown()
    }
}

/// Recomputes the sidecar's answer at once when a configuration is adopted and every 25 ms
/// otherwise, so long-polls also wake for what changes with the clock alone (a lease running
/// out, a majority going quiet, an announcement going stale).
struct SidecarRefreshService: Service {
    static let period: Duration = .milliseconds(25)
    let board: SidecarBoard
    let configs: ActiveConfigBoard

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await configs.wait(after: configs.current.config.epoch.rawValue, timeout: Self.period)
                board.refresh()
            }
        }
    }
}
