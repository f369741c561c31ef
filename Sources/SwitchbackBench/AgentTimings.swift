import ArgumentParser
import SwitchbackConfiguration

/// The detection and failover timings an agent benchmark runs with.
enum AgentTimings: String, CaseIterable, Sendable {
    /// What the agent tests use: probe every 250 ms, down after 1 s, 2 s lease.
    case fast
    /// The documented defaults of `detection:` and `failover:` (probe 1 s, down after 5 s, lease 4 s).
    case `default`

    /// The `detection:` and `failover:` lines of an agent configuration.
    var yaml: String {
        switch self {
        case .fast:
            """
            detection: { probe_interval: 250ms, down_after: 1s, lease: 2s, probe_timeout: 800ms }
            failover: { automatic: true, block_period: 10m, candidate_backoff: 1s, election_timeout: 4s }
            """
        case .default:
            // Only what differs from nothing: every other key keeps its documented default.
            "failover: { automatic: true }"
        }
    }

    var probeInterval: Duration { self == .fast ? .milliseconds(250) : .seconds(1) }
    var downAfter: Duration { self == .fast ? .seconds(1) : .seconds(5) }
    var lease: Duration { self == .fast ? .seconds(2) : .seconds(4) }

    /// "250ms / 1s / 2s": probe interval, down_after, lease.
    var triple: String {
        [probeInterval, downAfter, lease].map(DurationText.format).joined(separator: " / ")
    }

    var summary: String {
        "\(rawValue): probe_interval \(DurationText.format(probeInterval)), down_after \(DurationText.format(downAfter)), lease \(DurationText.format(lease))"
    }
}

/// `--timings fast|default|both`.
enum TimingsChoice: String, ExpressibleByArgument, CaseIterable {
    case fast
    case `default`
    case both

    var timings: [AgentTimings] {
        switch self {
        case .fast: [.fast]
        case .default: [.default]
        case .both: [.fast, .default]
        }
    }
}
