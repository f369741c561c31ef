import Foundation
import KafkaClient
import Logging

/// What translating consumer groups across a flow did: the plan of every group, and for each
/// commit whether the destination cluster took it.
public struct GroupTranslationResult: Sendable, CustomStringConvertible {
    /// Per group and partition: commit (with the exact offset) or skip (with the reason).
    public var report: TranslationReport
    /// Whether this was a dry run (nothing was committed).
    public var dryRun: Bool
    /// Commits the destination refused, per group and destination partition, with the reason.
    public var commitFailures: [ConsumerGroupID: [TopicPartition: String]]
    /// Groups whose offsets or membership could not be read, with the reason; not translated.
    public var groupErrors: [ConsumerGroupID: String]
    /// Destination partitions whose stale committed offset was removed (or, in a dry run, would
    /// be), per group: the origin has no commit there, or nothing of the partition is mirrored.
    public var cleared: [ConsumerGroupID: [TopicPartition]] = [:]
    /// From checkpoints: how old each used group's checkpoint was (now − when its source offsets
    /// were read); the group re-reads at most what it consumed in that time.
    public var checkpointAges: [ConsumerGroupID: Duration] = [:]
    /// From checkpoints: groups whose checkpoint was older than the bound, with its age; they
    /// were not positioned (position them by hand, or translate again with a larger bound).
    public var staleCheckpoints: [ConsumerGroupID: Duration] = [:]
    /// What could not be read but did not stop the translation (one store of the checkpoints).
    public var warnings: [String] = []
    /// Live, with settling: why each group's offsets were taken as final (see ``GroupSettling``).
    public var settled: [ConsumerGroupID: GroupSettling.Outcome] = [:]

    /// Adds what a second translation to the same destination did (the old direction of a
    /// reversed flow, translated after this one): its commits went in after this one's.
    public mutating func merge(_ other: GroupTranslationResult) {
        report = TranslationReport(plans: report.plans + other.report.plans)
        commitFailures.merge(other.commitFailures) { $0.merging($1) { _, later in later } }
        groupErrors.merge(other.groupErrors) { "\($0); \($1)" }
        cleared.merge(other.cleared) { $0 + $1 }
        warnings += other.warnings
    }

    /// Partitions committed on the destination (0 in a dry run).
    public var committedCount: Int {
        dryRun ? 0 : report.commitCount - commitFailures.values.reduce(0) { $0 + $1.count }
    }

    public var description: String {
        var lines = [dryRun ? "DRY RUN: nothing was committed" : "committed \(committedCount) partition(s)", report.description]
        for (group, failures) in commitFailures.sorted(by: { $0.key < $1.key }) {
            for (partition, reason) in failures.sorted(by: { $0.key < $1.key }) {
                lines.append("FAILED \(group) \(partition): \(reason)")
            }
        }
        for (group, reason) in groupErrors.sorted(by: { $0.key < $1.key }) {
            lines.append("NOT TRANSLATED \(group): \(reason)")
        }
        for (group, partitions) in cleared.sorted(by: { $0.key < $1.key }) where !partitions.isEmpty {
            let verb = dryRun ? "would remove" : "removed"
            lines.append("\(group): \(verb) the stale commit of \(partitions.sorted().map(\.description).joined(separator: ", "))")
        }
        for (group, outcome) in settled.sorted(by: { $0.key < $1.key }) {
            lines.append("\(group): offsets read when settled: \(outcome)")
        }
        for (group, age) in checkpointAges.sorted(by: { $0.key < $1.key }) {
            lines.append("\(group): from a checkpoint \(age) old")
        }
        for (group, age) in staleCheckpoints.sorted(by: { $0.key < $1.key }) {
            lines.append("STALE CHECKPOINT \(group): \(age) old, beyond the bound; not positioned")
        }
        for warning in warnings { lines.append("WARNING: \(warning)") }
        return lines.joined(separator: "\n")
    }
}

/// Moves consumer groups across a flow with its exact offset map: discovers the groups and
/// their committed offsets on one cluster, translates them, and commits them on the other —
/// only for groups with no active members there. Failover translates from the flow's source
/// to its target; failback from the target back to the source, through the same map.
///
/// This is what `switchback offsets translate` and the runbooks' translate-offsets step call.
public struct OffsetTranslationService: Sendable {
    public let configuration: FlowConfiguration
    let logger: Logger
    /// The wall clock that checkpoint ages are measured against.
    let now: @Sendable () -> Date

    /// - Parameter now: the current time, against which checkpoint ages are measured (tests
    ///   pass a fixed one).
    public init(
        configuration: FlowConfiguration, logger: Logger = Logger(label: "switchback.mirror.translate"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    /// The flow's offset map as stored at the target site: the local cache file (read, not
    /// changed, so a running flow may own it), then the internal topic over it.
    /// - Parameter readTopic: `false` reads the cache file alone (target cluster unreachable).
    public func loadOffsetMap(readTopic: Bool = true) async throws(MirrorError) -> OffsetMap {
        let flow = configuration.flow
        var map = try OffsetMapFile.read(path: configuration.offsetMapFilePath, flow: flow) ?? OffsetMap(flow: flow)
        guard readTopic else { return map }
        let topic = configuration.offsetMapTopic
        let partition = KafkaClient.TopicPartition(topic.kafka, 0)
        let marks: Watermarks
        do {
            let admin = try KafkaAdmin(configuration: configuration.target.clientConfiguration(clientID: "switchback-translate"), logger: logger)
            guard try await admin.listTopics()[topic.kafka] != nil else { return map }
            marks = try await admin.watermarks(of: partition)
        } catch {
            throw MirrorError(.kafka, "cannot read \(topic) on \(flow.target): \(error)", isRetriable: true)
        }
        let scan = TargetLogScan(client: configuration.target.clientConfiguration(clientID: "switchback-translate"), logger: logger)
        var stored: [OffsetMapUpdate] = []
        for record in try await scan.read(from: [partition: marks.low], to: [partition: marks.high])[partition] ?? [] {
            guard let key = record.key, let value = record.value,
                let update = try? OffsetMapRecordCodec.decode(key: key, value: value), update.flow == flow
            else { continue }
            stored.append(update)
        }
        for update in OffsetMap.storedOrder(stored) {
            do {
                try map.apply(update)
            } catch {
                logger.warning("\(topic): \(update): \(error.message)")
            }
        }
        return map
    }

    /// Translates every group of the origin cluster (the flow's source for failover, its target
    /// for failback) and, unless `dryRun`, commits the exact offsets on the destination.
    ///
    /// - Parameters:
    ///   - map: the offset map to use; `nil` loads it with ``loadOffsetMap(readTopic:)``.
    ///   - groups: only these groups (still subject to the group selection); `nil` for all listed.
    ///   - settling: wait for each group's committed offsets to be final before reading them (a
    ///     planned switchover, with producers fenced and the flow drained); `nil` reads them once.
    ///   - exactOnly: commit only exact translations (see ``GroupTranslationPlan/exactCommitsOnly()``).
    /// - Throws: ``MirrorError`` when the clusters cannot be asked at all; per-group problems
    ///   are in the result.
    public func translate(
        direction: TranslationDirection, dryRun: Bool, map givenMap: OffsetMap? = nil, groups only: [ConsumerGroupID]? = nil,
        settling: GroupSettling? = nil, exactOnly: Bool = false
    ) async throws(MirrorError) -> GroupTranslationResult {
        let flow = configuration.flow
        let (origin, destination) = direction == .failover
            ? (configuration.source, configuration.target) : (configuration.target, configuration.source)
        let originAdmin: KafkaAdmin
        let destinationAdmin: KafkaAdmin
        do {
            originAdmin = try KafkaAdmin(configuration: origin.clientConfiguration(clientID: "switchback-translate"), logger: logger)
            destinationAdmin = try KafkaAdmin(configuration: destination.clientConfiguration(clientID: "switchback-translate"), logger: logger)
        } catch {
            throw MirrorError(.kafka, "cannot create admin clients for \(flow): \(error)")
        }
        var groupIDs: [ConsumerGroupID]
        if let only {
            groupIDs = only
        } else {
            do {
                let listed = try await originAdmin.listConsumerGroups()
                if !listed.errors.isEmpty {
                    throw MirrorError(.kafka, "listing consumer groups on \(origin.site) was incomplete: "
                        + "\(listed.errors.map(\.description)); translate again when every broker answers", isRetriable: true)
                }
                groupIDs = listed.groups.compactMap { ConsumerGroupID(kafka: $0.id) }
            } catch let error as MirrorError {
                throw error
            } catch {
                throw MirrorError(.kafka, "cannot list consumer groups on \(origin.site): \(error)", isRetriable: true)
            }
        }
        groupIDs = Array(Set(groupIDs)).sorted()
        // Committed offsets are asked for by partition: every partition of the origin's
        // non-internal topics (asking for "all" is not served by every broker).
        let originPartitions: [KafkaClient.TopicPartition]
        do {
            originPartitions = try await originAdmin.listTopics().values
                .filter { !$0.name.isInternal && $0.error == nil }
                .flatMap { topic in topic.partitions.map { KafkaClient.TopicPartition(topic.name, $0.partition) } }
                .sorted()
        } catch {
            throw MirrorError(.kafka, "cannot list topics on \(origin.site): \(error)", isRetriable: true)
        }
        let map: OffsetMap
        if let givenMap {
            map = givenMap
        } else {
            // Failover: every source partition may have copies the stored map lacks.
            let sources = direction == .failover ? originPartitions.compactMap { TopicPartition(kafka: $0) } : []
            map = try await loadCurrentOffsetMap(partitions: sources.filter { configuration.topics.decision(for: $0.topic).isSelected })
        }

        var result = GroupTranslationResult(report: TranslationReport(plans: []), dryRun: dryRun, commitFailures: [:], groupErrors: [:])
        var plans: [GroupTranslationPlan] = []
        let mirrored = mirroredPartitions(on: direction, map: map)
        for group in groupIDs where !group.isInternal {
            let committed: [KafkaClient.TopicPartition: KafkaClient.Offset]
            let active: Bool
            do {
                if originPartitions.isEmpty {
                    committed = [:]
                } else if let settling {
                    let settled = try await settledCommittedOffsets(group, partitions: originPartitions, admin: originAdmin, settling: settling)
                    committed = settled.offsets
                    result.settled[group] = settled.outcome
                    if case .timedOut = settled.outcome { result.warnings.append("\(group): \(settled.outcome)") }
                } else {
                    committed = try await originAdmin.committedOffsets(group: group.kafka, partitions: originPartitions)
                }
                active = try await hasActiveMembers(group, admin: destinationAdmin)
            } catch {
                result.groupErrors[group] = "\(error)"
                continue
            }
            // Every mirrored partition the group has no commit for is in the plan too, so a
            // commit left at the destination by an earlier move is removed, not left in force.
            var offsets: [TopicPartition: Offset?] = Dictionary(uniqueKeysWithValues: mirrored.map { ($0, nil) })
            for (partition, offset) in committed {
                guard let converted = TopicPartition(kafka: partition) else { continue }
                offsets[converted] = Offset(kafka: offset)
            }
            let translated = GroupTranslationPlan(
                offsets: GroupOffsets(group: group, committed: offsets), direction: direction, map: map,
                naming: configuration.naming, topics: configuration.topics, groups: configuration.groups,
                activeMembersAtDestination: active)
            let plan: GroupTranslationPlan
            if exactOnly {
                let destinations = translated.commits.keys.map(\.kafka)
                do {
                    let existing = destinations.isEmpty ? [:] : try await destinationAdmin.committedOffsets(group: group.kafka, partitions: destinations)
                    var commits: [TopicPartition: Offset] = [:]
                    for (partition, offset) in existing {
                        if let converted = TopicPartition(kafka: partition), offset.rawValue >= 0 { commits[converted] = Offset(kafka: offset) }
                    }
                    plan = translated.exactCommitsOnly(keeping: commits)
                } catch {
                    result.groupErrors[group] = "cannot read its offsets at \(destination.site): \(error)"
                    continue
                }
            } else {
                plan = translated
            }
            plans.append(plan)
            await execute(plan, dryRun: dryRun, admin: destinationAdmin, into: &result)
        }
        result.report = TranslationReport(plans: plans)
        return result
    }

    /// The partitions, as named on the origin cluster, of which the map holds anything.
    func mirroredPartitions(on direction: TranslationDirection, map: OffsetMap) -> [TopicPartition] {
        let flow = configuration.flow
        return map.partitions.keys.compactMap { source in
            guard direction == .failback else { return source }
            guard case .mirror(let target) = configuration.naming.decision(for: source.topic, from: flow.source, to: flow.target)
            else { return nil }
            return TopicPartition(target, source.partition)
        }
    }

    /// Commits a plan's offsets on the destination and removes the commits its ``GroupTranslationPlan/clears``
    /// name (only those the destination has), recording what failed and what was removed.
    func execute(_ plan: GroupTranslationPlan, dryRun: Bool, admin: KafkaAdmin, into result: inout GroupTranslationResult) async {
        let group = plan.group
        let clears = plan.clears
        var stale: [TopicPartition] = []
        if !clears.isEmpty {
            do {
                let present = try await admin.committedOffsets(group: group.kafka, partitions: clears.map(\.kafka))
                stale = present.keys.compactMap { TopicPartition(kafka: $0) }.sorted()
            } catch {
                for partition in clears { result.commitFailures[group, default: [:]][partition] = "cannot read the commit to remove: \(error)" }
            }
        }
        if !stale.isEmpty { result.cleared[group] = stale }
        let commits = plan.commits
        guard !dryRun else { return }
        if !commits.isEmpty {
            var request: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
            for (partition, offset) in commits { request[partition.kafka] = offset.kafka }
            do {
                for (partition, outcome) in try await admin.alterCommittedOffsets(group: group.kafka, nextOffsets: request) {
                    if case .failure(let error) = outcome, let converted = TopicPartition(kafka: partition) {
                        result.commitFailures[group, default: [:]][converted] = "\(error)"
                    }
                }
            } catch {
                for partition in commits.keys { result.commitFailures[group, default: [:]][partition] = "\(error)" }
            }
        }
        if !stale.isEmpty {
            do {
                for (partition, outcome) in try await admin.deleteCommittedOffsets(group: group.kafka, partitions: stale.map(\.kafka)) {
                    if case .failure(let error) = outcome, let converted = TopicPartition(kafka: partition) {
                        result.commitFailures[group, default: [:]][converted] = "cannot remove the stale commit: \(error)"
                    }
                }
            } catch {
                for partition in stale { result.commitFailures[group, default: [:]][partition] = "cannot remove the stale commit: \(error)" }
            }
        }
        logger.info("\(group): \(plan.direction) \(plan.originSite) → \(plan.destinationSite): committed \(commits.count), removed \(stale.count) partition(s)")
    }

    func hasActiveMembers(_ group: ConsumerGroupID, admin: KafkaAdmin) async throws -> Bool {
        let described = try await admin.describeConsumerGroups([group.kafka])
        switch described[group.kafka] {
        case .success(let description): return description.hasActiveMembers
        case .failure(let error) where error.code == .groupIDNotFound: return false
        case .failure(let error): throw error
        case nil: return false
        }
    }
}
