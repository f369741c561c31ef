import Consensus
import Mirror
import Sites

/// One agent's configuration file (DESIGN.md §8): the single schema that `switchback agent`,
/// `switchback mirror` and `switchback offsets` all read.
///
/// Load it with ``load(path:secrets:)`` or ``parse(yaml:secrets:)``: every key is checked,
/// unknown keys are errors, and secrets are resolved at load time so a missing variable stops
/// the agent at start rather than at the first failover.
public struct AgentConfiguration: Sendable {
    /// This agent's name: a key of `sites` for a member, of `witnesses` for a witness.
    public var name: SiteID
    public var role: AgentRole
    /// Where the HTTP API listens. Default `0.0.0.0:7070`.
    public var listen: ListenAddress
    /// Election state, audit log and offset-map cache. Default `/var/lib/switchback`.
    public var dataDirectory: String
    /// Every site with its cluster and agent, in file order.
    public var sites: [SiteSettings]
    /// The witness agents (voters without a cluster), in file order.
    public var witnesses: [WitnessSettings]
    public var mirror: MirrorSettings
    public var detection: DetectionSettings
    public var failover: FailoverSettings
    public var auth: AuthSettings
    public var alerts: AlertSettings
    /// HTTPS for the API and the calls to other agents; `nil` serves and calls plain HTTP.
    public var tls: TLSSettings?
    /// Who may read the HTML status page (`status_page:`). Default: the operator token.
    public var statusPage: StatusPageAccess = .operatorToken
    /// Limits of the HTTP listener (`http:`); defaults when the section is absent.
    public var http: HTTPSettings
    /// Things that work but deserve the operator's attention (printed at start).
    public var warnings: [String]

    /// The site entry named `site`, if configured.
    public func site(_ site: SiteID) -> SiteSettings? { sites.first { $0.name == site } }

    /// This agent's own site, or `nil` for a witness.
    public var ownSite: SiteSettings? { role == .member ? site(name) : nil }
}

/// Whether an agent runs beside a cluster or only votes.
public enum AgentRole: String, Hashable, Sendable, Codable {
    /// Runs beside its site's Kafka cluster (the default).
    case member
    /// Votes and probes every cluster, but has no cluster of its own.
    case witness
}

/// `host:port` to listen on.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One site: its Kafka cluster and its agent.
public struct SiteSettings: Sendable {
    public var name: SiteID
    /// `bootstrap.servers` of the site's cluster, one `host:port` per entry.
    public var bootstrapServers: [String]
    /// The base URL of the site's agent (`https://agent-a:7070`).
    public var agentURL: String
    /// Raw librdkafka properties for this cluster (`security.protocol`, `sasl.password`, …).
    public var kafkaProperties: [String: KafkaPropertyValue]

    /// The properties with their secrets revealed, for handing to librdkafka only.
    public func librdkafkaProperties() -> [String: String] {
        kafkaProperties.mapValues { value in
            switch value {
            case .plain(let text): text
            case .secret(let secret): secret.revealed()
            }
        }
    }
}

/// A librdkafka property value: plain text, or a secret from the environment or a file.
public enum KafkaPropertyValue: Hashable, Sendable, CustomStringConvertible {
    case plain(String)
    case secret(Secret)

    public var description: String {
        switch self {
        case .plain(let text): text
        case .secret(let secret): secret.description
        }
    }
}

/// A witness agent: a voter with no cluster.
public struct WitnessSettings: Sendable {
    public var name: SiteID
    public var agentURL: String
}

/// `mirror:` — what is mirrored and which way.
public struct MirrorSettings: Sendable {
    /// Default `prefix`.
    public var policy: NamingPolicy
    /// Default: include every topic (`.*`), exclude none. Internal topics are never mirrored.
    public var topics: TopicSelection
    /// Default: include every group (`.*`), exclude none.
    public var groups: GroupSelection
    /// Default `auto`.
    public var flows: FlowSettings
    /// `checkpoint_interval`, default 1 s: how often each flow checkpoints its groups' committed
    /// offsets at the target. After losing the source site a group re-reads at most what it
    /// consumed in one interval; each round costs the source one ListGroups and one OffsetFetch
    /// per group, and the target one small record per group.
    public var checkpointInterval: Duration = .seconds(1)
    /// `checkpoint_max_age`, default the larger of 30 s and 5 intervals: checkpoints older than
    /// this are reported, not used, when groups are positioned from checkpoints. The age is
    /// measured when the failover translates, so it must cover detection and election.
    public var checkpointMaxAge: Duration = .seconds(30)
    /// `topic_refresh_interval`, default 10 s: how often each flow looks for new selected topics
    /// and partitions at its source. Records of a topic created since the last look are not
    /// copied yet (at risk if the site fails); each look costs both clusters one Metadata
    /// request. A planned switchover's drain looks at once, whatever the interval.
    public var topicRefreshInterval: Duration = .seconds(10)
}

/// `mirror.flows`: follow the election, or a fixed set for active–active and hub-and-spoke.
public enum FlowSettings: Sendable, Hashable {
    /// One flow from the active site to the standby, reversed on failover.
    case auto
    /// Exactly these flows, whatever the active site.
    case fixed([FlowRoute])
}

/// One fixed flow: `{ from: dc-a, to: hub }`.
public struct FlowRoute: Hashable, Sendable, Codable {
    public var from: SiteID
    public var to: SiteID

    public init(from: SiteID, to: SiteID) {
        self.from = from
        self.to = to
    }
}

/// `detection:` — how fast failures are noticed.
public struct DetectionSettings: Sendable, Hashable {
    /// How often clusters are probed and heartbeats sent. Default `1s`.
    public var probeInterval: Duration
    /// A site without a good probe for this long is down. Default `5s`.
    public var downAfter: Duration
    /// How long a renewed lease lets the active site serve. Default `4s`.
    public var lease: Duration
    /// A probe that takes longer than this fails. Default: the probe interval, at most `5s`.
    public var probeTimeout: Duration
    /// Optional election fine-tuning; `nil` keeps the election's defaults.
    public var heartbeatStaleness: Duration?
    public var leaseSafetyMargin: Duration?
}

/// `failover:` — what the agents may do on their own.
public struct FailoverSettings: Sendable, Hashable {
    /// As written in the file (default `true`); see ``AgentConfiguration/automaticFailoverEnabled``.
    public var automatic: Bool
    /// Default `manual`.
    public var failback: FailbackPolicy
    /// After an automatic change, further ones wait this long unless acknowledged. Default `10m`.
    public var blockPeriod: Duration
    /// The site that is active before any election and the one automatic failback returns
    /// to. Default: the first site listed under `sites`.
    public var homeSite: SiteID
    public var candidateBackoff: Duration?
    public var electionTimeout: Duration?
}

/// `auth:` — the agents' own credentials (never inline).
public struct AuthSettings: Sendable, Hashable {
    /// Shared by every agent; signs peer messages (HMAC-SHA256).
    public var peerSecret: Secret
    /// Bearer token for the operator API: it can order a failover without a majority, so it is
    /// at least ``minimumOperatorTokenBytes`` long.
    public var operatorToken: Secret

    /// The shortest operator token accepted (bytes).
    public static let minimumOperatorTokenBytes = 16
}

/// `alerts:` — where decisions are announced.
public struct AlertSettings: Sendable {
    public var webhooks: [WebhookSettings]
}

public struct WebhookSettings: Sendable {
    public enum Format: String, Hashable, Sendable, Codable { case generic, slack, pagerduty }
    public var url: String
    /// Default `generic`.
    public var format: Format
    /// Signs each delivery (HMAC-SHA256); optional.
    public var secret: Secret?
}
