import Consensus
import Mirror
import Sites

/// The sections after `sites`: mirror, detection, failover, auth and alerts.
extension ConfigurationParser {
    func parseMirror(_ value: YAMLValue?, sites: [SiteID]) throws(ConfigurationError) -> MirrorSettings {
        let fields = try value?.mapping(
            allowed: ["policy", "topics", "groups", "flows", "checkpoint_interval", "checkpoint_max_age", "topic_refresh_interval"],
            example: "{ policy: prefix, topics: { include: [\".*\"] }, checkpoint_interval: 1s }")
        let policy: NamingPolicy = try fields?["policy"]?.choice([("prefix", .prefix), ("identity", .identity)]) ?? .prefix
        let (topicInclude, topicExclude) = try patterns(fields?["topics"])
        let (groupInclude, groupExclude) = try patterns(fields?["groups"])
        let topics: TopicSelection
        let groups: GroupSelection
        do {
            topics = try TopicSelection(include: topicInclude, exclude: topicExclude, key: "mirror.topics")
            groups = try GroupSelection(include: groupInclude, exclude: groupExclude, key: "mirror.groups")
        } catch {
            let key = error.message.split(separator: ":").first.map(String.init) ?? "mirror"
            throw ConfigurationError(.invalidValue, keyPath: key, problem: error.message, fix: "fix the regular expression (Swift Regex syntax, whole-name match)")
        }
        var flows = FlowSettings.auto
        if let flowsValue = fields?["flows"] {
            if flowsValue.isScalar {
                flows = try flowsValue.choice([("auto", FlowSettings.auto)])
            } else {
                var routes: [FlowRoute] = []
                for item in try flowsValue.list(example: "auto, or [{ from: dc-a, to: hub }]") {
                    let route = try item.mapping(allowed: ["from", "to"], example: "{ from: dc-a, to: hub }")
                    let fromValue = try route.required("from", example: "dc-a")
                    let toValue = try route.required("to", example: "hub")
                    let from = try siteName(fromValue)
                    let to = try siteName(toValue)
                    for (site, origin) in [(from, fromValue), (to, toValue)] where !sites.contains(site) {
                        throw origin.error(.invalidValue, "'\(site)' is not one of the sites (\(sites.map(\.rawValue).joined(separator: ", ")))", fix: "use a site listed under sites")
                    }
                    guard from != to else { throw item.error(.invalidValue, "a flow from \(from) to itself", fix: "use two different sites") }
                    guard !routes.contains(FlowRoute(from: from, to: to)) else {
                        throw item.error(.invalidValue, "the flow \(from)→\(to) is listed twice", fix: "remove one")
                    }
                    routes.append(FlowRoute(from: from, to: to))
                }
                guard !routes.isEmpty else { throw flowsValue.error(.invalidValue, "no flows listed", fix: "write flows: auto, or list at least one { from, to }") }
                flows = .fixed(routes)
            }
        }
        let checkpointInterval = try fields?["checkpoint_interval"]?.positiveDuration() ?? .seconds(1)
        let maxAgeValue = fields?["checkpoint_max_age"]
        let checkpointMaxAge = try maxAgeValue?.positiveDuration() ?? max(.seconds(30), checkpointInterval * 5)
        if let maxAgeValue, checkpointMaxAge < checkpointInterval * 2 {
            throw maxAgeValue.error(
                .invalidValue,
                "\(DurationText.format(checkpointMaxAge)) is shorter than two checkpoint intervals (\(DurationText.format(checkpointInterval)))",
                fix: "make checkpoint_max_age longer than the time from a fault to the failover's translation "
                    + "(detection.down_after plus a few seconds), e.g. 30s")
        }
        let topicRefreshInterval = try fields?["topic_refresh_interval"]?.positiveDuration() ?? .seconds(10)
        return MirrorSettings(
            policy: policy, topics: topics, groups: groups, flows: flows,
            checkpointInterval: checkpointInterval, checkpointMaxAge: checkpointMaxAge, topicRefreshInterval: topicRefreshInterval)
    }

    func patterns(_ value: YAMLValue?) throws(ConfigurationError) -> ([String], [String]) {
        guard let value else { return ([".*"], []) }
        let fields = try value.mapping(allowed: ["include", "exclude"], example: "{ include: [\".*\"], exclude: [] }")
        let include = try fields["include"]?.stringList(example: "[\"orders\", \"payments\\\\..*\"]") ?? [".*"]
        let exclude = try fields["exclude"]?.stringList(example: "[\"tmp-.*\"]") ?? []
        return (include, exclude)
    }

    func parseDetection(_ value: YAMLValue?) throws(ConfigurationError) -> DetectionSettings {
        let fields = try value?.mapping(
            allowed: ["probe_interval", "down_after", "lease", "probe_timeout", "heartbeat_staleness", "lease_safety_margin"],
            example: "{ probe_interval: 1s, down_after: 5s, lease: 4s }")
        let probeInterval = try fields?["probe_interval"]?.positiveDuration() ?? .seconds(1)
        let downAfterValue = fields?["down_after"]
        let downAfter = try downAfterValue?.positiveDuration() ?? .seconds(5)
        let lease = try fields?["lease"]?.positiveDuration() ?? .seconds(4)
        if let downAfterValue, downAfter < probeInterval {
            throw downAfterValue.error(
                .invalidValue, "\(DurationText.format(downAfter)) is shorter than probe_interval (\(DurationText.format(probeInterval)))",
                fix: "make down_after several probe intervals long (5 × probe_interval is typical)")
        }
        let probeTimeout = try fields?["probe_timeout"]?.positiveDuration() ?? min(max(probeInterval, .milliseconds(500)), .seconds(5))
        return DetectionSettings(
            probeInterval: probeInterval, downAfter: downAfter, lease: lease, probeTimeout: probeTimeout,
            heartbeatStaleness: try fields?["heartbeat_staleness"]?.positiveDuration(),
            leaseSafetyMargin: try fields?["lease_safety_margin"]?.duration())
    }

    func parseFailover(_ value: YAMLValue?, sites: [SiteID]) throws(ConfigurationError) -> FailoverSettings {
        let fields = try value?.mapping(
            allowed: ["automatic", "failback", "failback_after", "block_period", "home_site", "candidate_backoff", "election_timeout"],
            example: "{ automatic: true, failback: manual, block_period: 10m }")
        let automatic = try fields?["automatic"]?.bool() ?? true
        let automaticFailback: Bool = try fields?["failback"]?.choice([("manual", false), ("automatic", true)]) ?? false
        var failback = FailbackPolicy.manual
        if automaticFailback, let fields {
            let after = try fields.required("failback_after", example: "30m").positiveDuration()
            failback = .automatic(healthyFor: after)
        } else if let after = fields?["failback_after"] {
            throw after.error(.invalidValue, "failback_after is set but failback is manual", fix: "set failback: automatic, or remove failback_after")
        }
        var homeSite = sites[0]
        if let homeValue = fields?["home_site"] {
            homeSite = try siteName(homeValue)
            guard sites.contains(homeSite) else {
                throw homeValue.error(.invalidValue, "'\(homeSite)' is not one of the sites (\(sites.map(\.rawValue).joined(separator: ", ")))", fix: "name a site listed under sites")
            }
        }
        return FailoverSettings(
            automatic: automatic, failback: failback, blockPeriod: try fields?["block_period"]?.duration() ?? .seconds(600),
            homeSite: homeSite, candidateBackoff: try fields?["candidate_backoff"]?.duration(),
            electionTimeout: try fields?["election_timeout"]?.positiveDuration())
    }

    func parseAuth(_ value: YAMLValue) throws(ConfigurationError) -> AuthSettings {
        let fields = try value.mapping(allowed: ["peer_secret", "operator_token"], example: "{ peer_secret: { env: SWITCHBACK_PEER_SECRET }, operator_token: { env: SWITCHBACK_TOKEN } }")
        let peerValue = try fields.required("peer_secret", example: "{ file: /etc/switchback/peer.key }")
        let peer = try secret(peerValue)
        guard peer.revealed().utf8.count >= 16 else {
            throw peerValue.error(.invalidValue, "the peer secret is shorter than 16 bytes", fix: "use a random secret of at least 32 characters (openssl rand -hex 32)")
        }
        let tokenValue = try fields.required("operator_token", example: "{ env: SWITCHBACK_TOKEN }")
        let token = try secret(tokenValue)
        let tokenBytes = token.revealed().utf8.count
        guard tokenBytes >= AuthSettings.minimumOperatorTokenBytes else {
            // The token can order a failover without a majority: a short one can be guessed.
            throw tokenValue.error(
                .invalidValue,
                "the operator token from \(token.source) is \(tokenBytes) bytes; at least \(AuthSettings.minimumOperatorTokenBytes) are required",
                fix: "use a random token of at least 32 characters (openssl rand -hex 32) in \(token.source)")
        }
        return AuthSettings(peerSecret: peer, operatorToken: token)
    }

    func parseAlerts(_ value: YAMLValue?) throws(ConfigurationError) -> AlertSettings {
        guard let value else { return AlertSettings(webhooks: []) }
        let fields = try value.mapping(allowed: ["webhooks"], example: "{ webhooks: [ { url: \"https://hooks.example/x\", format: slack } ] }")
        var hooks: [WebhookSettings] = []
        for item in try fields["webhooks"]?.list(example: "[ { url: \"https://hooks.example/x\", format: slack } ]") ?? [] {
            let hook = try item.mapping(allowed: ["url", "format", "secret"], example: "{ url: \"https://hooks.example/x\", format: slack }")
            let url = try agentURL(try hook.required("url", example: "\"https://hooks.example/x\""))
            let format: WebhookSettings.Format = try hook["format"]?.choice([("generic", .generic), ("slack", .slack), ("pagerduty", .pagerduty)]) ?? .generic
            let secretValue = try hook["secret"].map { v throws(ConfigurationError) in try secret(v) }
            if format == .pagerduty && secretValue == nil {
                throw item.error(
                    .missingKey, "a pagerduty webhook has no secret (PagerDuty's routing key)",
                    fix: "add secret: { env: PAGERDUTY_ROUTING_KEY } with the integration's routing key")
            }
            hooks.append(WebhookSettings(url: url, format: format, secret: secretValue))
        }
        return AlertSettings(webhooks: hooks)
    }
}
