import KafkaClient
import Logging
import Mirror
import Sites

/// Group positions brought home in a planned move back to a site that was active before (a
/// failback, dc-b → dc-a).
///
/// At the site being left, the groups also read the copies of the returning site's own topics
/// (`dc-a.orders` at dc-b under the `prefix` policy): what the flow dc-a → dc-b mirrored before
/// dc-a failed and what reconcile recovered when it returned. The flow drained for the move
/// copies the other way, so its translation skips those copies ("mirroring it back would
/// loop"), and the group's commit at the returning site stays where it was when that site
/// failed: every record the group read from the copies after that is delivered again. Here the
/// last record the group consumed of each copy names its source (``Provenance``), and the group
/// resumes at the returning site right after it — exact for mirrored and recovered copies
/// alike, and never moved backwards.
///
/// Only under a naming policy that gives the copies their own names: under `identity` the
/// copies share the partition with the site's own records, and the earlier flow's map
/// translates the positions back (`translateBackAcrossTheOldDirection` in the data plane).
public struct HomePositions: Sendable {
    /// The flow from the returning site to the site being left (it ran before the failure).
    public let homeFlow: FlowConfiguration
    let logger: Logger
    public var timeout: Duration = .seconds(30)

    public init(homeFlow: FlowConfiguration, logger: Logger) {
        self.homeFlow = homeFlow
        self.logger = logger
    }

    /// One group's position moved at the returning site.
    public struct Move: Hashable, Sendable, CustomStringConvertible {
        public var group: String
        /// The returning site's partition.
        public var partition: KafkaClient.TopicPartition
        /// The group's commit there before (`nil`: none).
        public var from: KafkaClient.Offset?
        public var to: KafkaClient.Offset

        public var description: String { "\(group) \(partition) \(from.map { "\($0)" } ?? "-") → \(to)" }
    }

    private var home: FlowEndpoint { homeFlow.source }
    private var away: FlowEndpoint { homeFlow.target }

    /// Works out the moves and, unless `dryRun`, commits them at the returning site.
    /// - Throws: ``FencingError`` when a cluster cannot be asked; a group with active members at
    ///   the returning site is left as it is (the main translation reports it).
    public func bringHome(dryRun: Bool) async throws(FencingError) -> [Move] {
        let homeAdmin = try home.admin("switchback-translate", logger: logger)
        let awayAdmin = try away.admin("switchback-translate", logger: logger)
        let copies = try await copiesOfHomeTopics(homeAdmin, awayAdmin)
        guard !copies.isEmpty else { return [] }
        let groups: [KafkaClient.GroupID]
        do {
            groups = try await awayAdmin.listConsumerGroups(timeout: timeout).groups.map(\.id)
                .filter { ConsumerGroupID(rawValue: $0.rawValue).map(homeFlow.groups.selects) == true && !$0.rawValue.hasPrefix("__") }
        } catch {
            throw FencingError.kafka("listing the consumer groups of \(away.site)", error)
        }
        var moves: [Move] = []
        for group in groups.sorted() {
            let groupMoves = try await positions(of: group, copies: copies, homeAdmin, awayAdmin)
            guard !groupMoves.isEmpty else { continue }
            if !dryRun {
                let request = Dictionary(uniqueKeysWithValues: groupMoves.map { ($0.partition, $0.to) })
                let outcomes: [KafkaClient.TopicPartition: Result<Void, KafkaError>]
                do {
                    outcomes = try await homeAdmin.alterCommittedOffsets(group: group, nextOffsets: request, timeout: timeout)
                } catch {
                    throw FencingError.kafka("committing the positions of \(group) on \(home.site)", error)
                }
                for (partition, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
                    if case .failure(let error) = outcome {
                        throw FencingError.kafka("committing \(group) at \(partition) on \(home.site)", error)
                    }
                }
            }
            moves += groupMoves
        }
        return moves
    }

    /// Each partition at the site being left that copies a partition of the returning site's
    /// own topics, with that partition.
    private func copiesOfHomeTopics(_ homeAdmin: KafkaAdmin, _ awayAdmin: KafkaAdmin) async throws(FencingError)
        -> [KafkaClient.TopicPartition: KafkaClient.TopicPartition]
    {
        let homeTopics: [KafkaClient.TopicName: TopicMetadata]
        let awayTopics: [KafkaClient.TopicName: TopicMetadata]
        do {
            homeTopics = try await homeAdmin.listTopics(timeout: timeout)
            awayTopics = try await awayAdmin.listTopics(timeout: timeout)
        } catch {
            throw FencingError.kafka("listing the topics of \(home.site) and \(away.site)", error)
        }
        var copies: [KafkaClient.TopicPartition: KafkaClient.TopicPartition] = [:]
        for (name, metadata) in homeTopics where !name.isInternal && metadata.error == nil {
            guard let topic = MirrorTopicName(rawValue: name.rawValue), homeFlow.topics.selects(topic),
                let copyName = homeFlow.naming.targetTopic(for: topic, from: home.site, to: away.site), copyName != topic,
                let copy = awayTopics[KafkaClient.TopicName(copyName.rawValue)]
            else { continue }
            for partition in metadata.partitions.map(\.partition) where copy.partitions.contains(where: { $0.partition == partition }) {
                copies[KafkaClient.TopicPartition(KafkaClient.TopicName(copyName.rawValue), partition)] = KafkaClient.TopicPartition(name, partition)
            }
        }
        return copies
    }

    private func positions(
        of group: KafkaClient.GroupID, copies: [KafkaClient.TopicPartition: KafkaClient.TopicPartition], _ homeAdmin: KafkaAdmin,
        _ awayAdmin: KafkaAdmin
    ) async throws(FencingError) -> [Move] {
        let awayCommitted: [KafkaClient.TopicPartition: KafkaClient.Offset]
        let homeCommitted: [KafkaClient.TopicPartition: KafkaClient.Offset]
        do {
            awayCommitted = try await awayAdmin.committedOffsets(group: group, partitions: copies.keys.sorted(), timeout: timeout)
            homeCommitted = try await homeAdmin.committedOffsets(group: group, partitions: copies.values.sorted(), timeout: timeout)
            if case .success(let description) = try await homeAdmin.describeConsumerGroups([group], timeout: timeout)[group],
                description.hasActiveMembers
            {
                logger.warning("\(group) has active members at \(home.site); its positions on copies of \(home.site)'s topics are not brought home")
                return []
            }
        } catch {
            throw FencingError.kafka("reading the commits of \(group) at \(away.site) and \(home.site)", error)
        }
        var moves: [Move] = []
        for (copy, committed) in awayCommitted.sorted(by: { $0.key < $1.key }) where committed.rawValue > 0 {
            guard let original = copies[copy], let source = try await sourceOfRecord(at: committed.rawValue - 1, in: copy),
                source.site == home.site, source.topic.rawValue == original.topic.rawValue, source.partition.rawValue == original.partition.rawValue
            else { continue }
            let next = KafkaClient.Offset(source.offset.rawValue + 1)
            let current = homeCommitted[original]
            if current.map({ $0 < next }) ?? true {
                moves.append(Move(group: group.rawValue, partition: original, from: current, to: next))
            }
        }
        return moves
    }

    /// Where the record at `offset` of `partition` was copied from, `nil` when there is no
    /// record there (compacted, a transaction marker) or it carries no provenance.
    private func sourceOfRecord(at offset: Int64, in partition: KafkaClient.TopicPartition) async throws(FencingError) -> SourcePosition? {
        var found: SourcePosition?
        let reader = PartitionRangeReader(client: away.kafkaClient("switchback-translate"), logger: logger, timeout: timeout)
        try await reader.read([partition: KafkaClient.Offset(offset)..<KafkaClient.Offset(offset + 1)]) { records throws(FencingError) in
            for record in records where record.offset.rawValue == offset {
                found = Provenance.source(in: record.headers.map { RecordHeader(key: $0.key, value: $0.value) }).value
            }
        }
        return found
    }
}
