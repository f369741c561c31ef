import Mirror

extension AgentConfiguration {
    /// The flows a standalone mirror at this agent's site runs: the configured `mirror.flows`
    /// that end here, or, with `auto`, the one flow from the other member site to this one.
    ///
    /// A flow runs at its target site (it must keep working when the source site dies, and the
    /// offset map must be readable there), so only flows *into* this site are returned.
    public func flowsIntoThisSite() throws(ConfigurationError) -> [FlowRoute] {
        switch mirror.flows {
        case .fixed(let routes):
            let routes = routes.filter { $0.to == name }
            guard !routes.isEmpty else {
                throw ConfigurationError(
                    .invalidValue, keyPath: "mirror.flows",
                    problem: "no flow ends at this agent's site \(name)",
                    fix: "add a flow with `to: \(name)`, or run the mirror at the site the flows copy into")
            }
            return routes
        case .auto:
            let others = sites.map(\.name).filter { $0 != name }
            guard role == .member, others.count == 1, let source = others.first else {
                throw ConfigurationError(
                    .invalidValue, keyPath: "mirror.flows",
                    problem: "`auto` follows the elected active site, which a standalone mirror does not know"
                        + (role == .witness ? " (and a witness runs no flows)" : " with \(sites.count) sites"),
                    fix: "list the flows explicitly, e.g. `flows: [{ from: dc-a, to: \(name) }]`, or pass --from")
            }
            return [FlowRoute(from: source, to: name)]
        }
    }

    /// The settings of the flow `route`, from the sites' clusters and the `mirror` section.
    ///
    /// - Throws: when a site of the route is not in `sites`.
    public func flowConfiguration(_ route: FlowRoute) throws(ConfigurationError) -> FlowConfiguration {
        guard let source = site(route.from) else {
            throw ConfigurationError(.invalidValue, keyPath: "mirror.flows", problem: "site \(route.from) is not configured",
                                     fix: "add \(route.from) under `sites`, or name one of: \(sites.map(\.name.rawValue).joined(separator: ", "))")
        }
        guard let target = site(route.to) else {
            throw ConfigurationError(.invalidValue, keyPath: "mirror.flows", problem: "site \(route.to) is not configured",
                                     fix: "add \(route.to) under `sites`, or name one of: \(sites.map(\.name.rawValue).joined(separator: ", "))")
        }
        var configuration = FlowConfiguration(
            source: FlowEndpoint(site: source.name, bootstrapServers: source.bootstrapServers, properties: source.librdkafkaProperties()),
            target: FlowEndpoint(site: target.name, bootstrapServers: target.bootstrapServers, properties: target.librdkafkaProperties()),
            naming: TopicNaming(policy: mirror.policy, knownSites: Set(sites.map(\.name))),
            topics: mirror.topics,
            groups: mirror.groups,
            dataDirectory: dataDirectory
        )
        configuration.checkpointInterval = mirror.checkpointInterval
        configuration.checkpointMaxAge = mirror.checkpointMaxAge
        configuration.provisioningInterval = mirror.topicRefreshInterval
        return configuration
    }
}
