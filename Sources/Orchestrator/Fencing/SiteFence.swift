import Consensus
import KafkaClient
import Logging
import Mirror
import Sites

/// Fences a demoted site's producers on its own cluster: raises `min.insync.replicas` of the
/// selected topics above their replication factor, so every `acks=all` produce there fails
/// with NOT_ENOUGH_REPLICAS until ``unfence(site:epoch:)`` restores the previous values.
///
/// - Important: `acks=1` and `acks=0` producers are **not** stopped: Kafka checks
///   `min.insync.replicas` only for `acks=all`. An application that produces with `acks=1` to
///   a fenced site still writes there; those records are not reconciled (they lie past the log
///   end recorded at fencing) and are lost to the active site. Applications that must never
///   lose an acknowledged record use `acks=all` (the default of every current client with
///   idempotence) — and follow the sidecar, which stops them before the fence is needed.
///
/// The previous values and the log ends at fencing are kept in the cluster's
/// `__switchback_state` (``FenceRecord``), written *before* any topic is changed, so an agent
/// killed mid-fence, or restarted later, restores exactly what was there.
///
/// Idempotent: fencing again for the same epoch converges on the same state and keeps the
/// first recorded values; a fence for a newer epoch over an existing one keeps the original
/// previous values. Epoch-checked (``EpochFence``) against the newest epoch the cluster
/// records: an older epoch's fence or unfence after a newer epoch acted is refused.
///
/// Which topics: those the mirror's topic selection (`mirror.topics`) selects, except internal
/// ones and — under the prefix policy — copies from other sites (`dc-b.orders` at dc-a), which
/// only a flow writes and which the reverse flow must be able to write. Under the identity
/// policy a topic is shared by local producers and the reverse flow, so unfence the site before
/// the reverse flow into it starts.
///
/// Librdkafka 2.0.2 has no IncrementalAlterConfigs: changes go through
/// `KafkaAdmin.alterTopicConfigs`, which reads the topic's dynamic configs and writes them all
/// back with the change (AlterConfigs replaces the set). A config changed by someone else
/// between that read and write is lost — do not change topic configs during a failover.
public struct SiteFence: Sendable {
    public static let configKey = "min.insync.replicas"

    public let topics: TopicSelection
    public let naming: TopicNaming
    public let state: SiteStateTopic
    public var timeout: Duration
    private let logger: Logger

    public init(
        topics: TopicSelection, naming: TopicNaming, state: SiteStateTopic,
        timeout: Duration = .seconds(30), logger: Logger = Logger(label: "switchback.fence")
    ) {
        self.topics = topics
        self.naming = naming
        self.state = state
        self.timeout = timeout
        self.logger = logger
    }

    /// What a fence or unfence would change, without changing anything (dry run).
    public struct Plan: Sendable, Hashable, CustomStringConvertible {
        public struct Change: Sendable, Hashable {
            public var topic: String
            /// The topic's own value now (`nil`: the broker default applies).
            public var current: String?
            /// The value the action sets (`nil`: removes the topic's own value).
            public var planned: String?

            public init(topic: String, current: String?, planned: String?) {
                self.topic = topic
                self.current = current
                self.planned = planned
            }
        }

        public var site: SiteID
        public var epoch: Epoch
        /// Why the action would be refused (a newer epoch acted), or `nil`.
        public var refusal: String?
        /// The fence record the cluster holds now.
        public var record: FenceRecord?
        public var changes: [Change]

        public var description: String {
            var lines = ["\(site) at \(epoch): " + (refusal.map { "REFUSED: \($0)" } ?? "\(changes.count) topic(s) to change")]
            for change in changes {
                lines.append("  \(change.topic): \(SiteFence.configKey) \(change.current ?? "(default)") → \(change.planned ?? "(default)")")
            }
            return lines.joined(separator: "\n")
        }
    }

    // MARK: Fence

    /// Fences the producers of `site`'s cluster for `epoch` (see the type's documentation).
    /// - Returns: the fence record now in the cluster, with the log ends at fencing.
    @discardableResult
    public func fence(site: FlowEndpoint, epoch: Epoch) async throws(FencingError) -> FenceRecord {
        let admin = try site.admin("switchback-fence", logger: logger)
        let recorded = try await state.readState(on: site)
        try recorded.admit(epoch, action: "fencing \(site.site)")
        let existing = recorded.fences[site.site]
        let selected = try await selectedTopics(admin, site)
        var previous = existing?.state == .fenced ? existing?.previous ?? [] : []
        let unknown = selected.keys.filter { topic in !previous.contains { $0.topic == topic.rawValue } }.sorted()
        let current = try await currentValues(unknown, admin, site)
        previous += unknown.map { FenceRecord.PreviousSetting(topic: $0.rawValue, value: current[$0] ?? nil) }
        let keptEnds = existing?.epoch == epoch && existing?.state == .fenced ? existing?.logEnds : nil
        var record = FenceRecord(site: site.site, epoch: epoch, state: .fenced, previous: previous, logEnds: keptEnds)
        // Written before any topic changes: the previous values must survive a crash mid-fence.
        try await state.write([.fence(record)], on: site)

        for (topic, replicationFactor) in selected.sorted(by: { $0.key < $1.key }) {
            try await alter(topic, set: String(replicationFactor + 1), admin, site)
        }
        if record.logEnds == nil {
            record.logEnds = try await logEnds(of: selected, admin, site)
            try await state.write([.fence(record)], on: site)
        }
        logger.notice("fenced \(site.site) at \(epoch): \(selected.count) topic(s) refuse acks=all produces")
        return record
    }

    /// What ``fence(site:epoch:)`` would change.
    public func planFence(site: FlowEndpoint, epoch: Epoch) async throws(FencingError) -> Plan {
        let admin = try site.admin("switchback-fence", logger: logger)
        let recorded = try await state.readState(on: site)
        let selected = try await selectedTopics(admin, site)
        let current = try await currentValues(Array(selected.keys), admin, site)
        return Plan(
            site: site.site, epoch: epoch, refusal: refusal(recorded, epoch, "fencing \(site.site)"),
            record: recorded.fences[site.site],
            changes: selected.sorted { $0.key < $1.key }.map { topic, replicationFactor in
                .init(topic: topic.rawValue, current: current[topic] ?? nil, planned: String(replicationFactor + 1))
            })
    }

    // MARK: Unfence

    /// Restores the values the fence replaced, from the cluster's fence record.
    /// - Returns: the unfenced record now in the cluster.
    /// - Throws: ``FencingError/Code/staleEpoch`` when a newer epoch has acted on the cluster
    ///   (an older epoch's unfence after a newer fence).
    @discardableResult
    public func unfence(site: FlowEndpoint, epoch: Epoch) async throws(FencingError) -> FenceRecord {
        let admin = try site.admin("switchback-fence", logger: logger)
        let recorded = try await state.readState(on: site)
        try recorded.admit(epoch, action: "unfencing \(site.site)")
        let existing = recorded.fences[site.site]
        let previous = existing?.previous ?? []
        let topics = try await existingTopics(admin, site)
        for setting in previous where topics.contains(KafkaClient.TopicName(setting.topic)) {
            try await alter(KafkaClient.TopicName(setting.topic), set: setting.value, admin, site)
        }
        let record = FenceRecord(site: site.site, epoch: epoch, state: .unfenced, previous: previous, logEnds: existing?.logEnds)
        try await state.write([.fence(record)], on: site)
        logger.notice("unfenced \(site.site) at \(epoch): \(previous.count) topic(s) restored")
        return record
    }

    /// What ``unfence(site:epoch:)`` would change.
    public func planUnfence(site: FlowEndpoint, epoch: Epoch) async throws(FencingError) -> Plan {
        let admin = try site.admin("switchback-fence", logger: logger)
        let recorded = try await state.readState(on: site)
        let previous = recorded.fences[site.site]?.previous ?? []
        let current = try await currentValues(previous.map { KafkaClient.TopicName($0.topic) }, admin, site)
        return Plan(
            site: site.site, epoch: epoch, refusal: refusal(recorded, epoch, "unfencing \(site.site)"),
            record: recorded.fences[site.site],
            changes: previous.map { .init(topic: $0.topic, current: current[KafkaClient.TopicName($0.topic)] ?? nil, planned: $0.value) })
    }

    // MARK: Cluster access

    private func refusal(_ recorded: SiteState, _ epoch: Epoch, _ action: String) -> String? {
        do {
            try recorded.admit(epoch, action: action)
            return nil
        } catch {
            return error.message
        }
    }

    /// The topics to fence, with their replication factor (the most replicas of any partition).
    private func selectedTopics(_ admin: KafkaAdmin, _ site: FlowEndpoint) async throws(FencingError) -> [KafkaClient.TopicName: Int] {
        let listed: [KafkaClient.TopicName: TopicMetadata]
        do {
            listed = try await admin.listTopics(timeout: timeout)
        } catch {
            throw FencingError.kafka("listing the topics of \(site.site)", error)
        }
        var selected: [KafkaClient.TopicName: Int] = [:]
        for (name, metadata) in listed where metadata.error == nil {
            guard let topic = MirrorTopicName(rawValue: name.rawValue), !topic.isInternal, topics.selects(topic) else { continue }
            if naming.policy == .prefix, !naming.sitePrefixes(of: topic).isEmpty { continue }
            selected[name] = max(1, metadata.partitions.map(\.replicas.count).max() ?? 1)
        }
        return selected
    }

    private func existingTopics(_ admin: KafkaAdmin, _ site: FlowEndpoint) async throws(FencingError) -> Set<KafkaClient.TopicName> {
        do {
            return Set(try await admin.listTopics(timeout: timeout).keys)
        } catch {
            throw FencingError.kafka("listing the topics of \(site.site)", error)
        }
    }

    /// Each topic's own `min.insync.replicas` (`.some(nil)`: none, the default applies).
    private func currentValues(_ topics: [KafkaClient.TopicName], _ admin: KafkaAdmin, _ site: FlowEndpoint) async throws(FencingError)
        -> [KafkaClient.TopicName: String?]
    {
        guard !topics.isEmpty else { return [:] }
        let described: [KafkaClient.TopicName: Result<[ConfigEntry], KafkaError>]
        do {
            described = try await admin.describeTopicConfigs(topics, timeout: timeout)
        } catch {
            throw FencingError.kafka("describing the configs of \(topics.count) topic(s) on \(site.site)", error)
        }
        var values: [KafkaClient.TopicName: String?] = [:]
        for topic in topics {
            guard case .success(let entries) = described[topic] else {
                throw FencingError(.kafka, "\(site.site) did not describe the configs of \(topic): \(String(describing: described[topic]))",
                                   isRetriable: true)
            }
            let own = entries.first { $0.name == Self.configKey && $0.source == .dynamicTopic }
            values[topic] = .some(own?.value)
        }
        return values
    }

    /// Sets (or, for `nil`, removes) the topic's own `min.insync.replicas`, keeping its other configs.
    private func alter(_ topic: KafkaClient.TopicName, set value: String?, _ admin: KafkaAdmin, _ site: FlowEndpoint) async throws(FencingError) {
        do {
            if let value {
                try await admin.alterTopicConfigs(topic, set: [Self.configKey: value], timeout: timeout)
            } else {
                try await admin.alterTopicConfigs(topic, set: [:], delete: [Self.configKey], timeout: timeout)
            }
        } catch {
            throw FencingError.kafka("setting \(Self.configKey)=\(value ?? "(default)") on \(site.site)'s \(topic)", error)
        }
    }

    private func logEnds(of topics: [KafkaClient.TopicName: Int], _ admin: KafkaAdmin, _ site: FlowEndpoint) async throws(FencingError)
        -> [FenceRecord.PartitionEnd]
    {
        let listed: [KafkaClient.TopicName: TopicMetadata]
        do {
            listed = try await admin.listTopics(timeout: timeout)
        } catch {
            throw FencingError.kafka("listing the topics of \(site.site)", error)
        }
        var ends: [FenceRecord.PartitionEnd] = []
        for topic in topics.keys.sorted() {
            for partition in listed[topic]?.partitions.map(\.partition).sorted() ?? [] {
                do {
                    let marks = try await admin.watermarks(of: KafkaClient.TopicPartition(topic, partition), timeout: timeout)
                    ends.append(.init(topic: topic.rawValue, partition: partition.rawValue, offset: marks.high.rawValue))
                } catch {
                    throw FencingError.kafka("reading the log end of \(topic)/\(partition) on \(site.site)", error)
                }
            }
        }
        return ends
    }
}
