import Foundation
import KafkaClient
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Takes group checkpoints beside a running ``Flow``, at the flow's target site: every
/// ``FlowConfiguration/checkpointInterval`` it reads the committed offsets of the selected
/// groups at the source, translates them exactly with the flow's offset map, stores them at the
/// target (``GroupCheckpointStore``: compacted topic, then local file) and commits them to the
/// target cluster's groups that have no active members there.
///
/// Why: after an unplanned failover the source cluster cannot be asked for the groups' positions.
/// With checkpoints a group re-reads at most what it consumed in one interval instead of
/// falling back to `auto.offset.reset`; ``OffsetTranslationService/translateFromCheckpoints(dryRun:maxAge:groups:)``
/// positions the groups from them.
///
/// A round that cannot read the source (it is down) changes nothing stored: the checkpoints keep
/// their age, which the gauge `switchback_mirror_checkpoint_age_seconds` (dimensions `flow`,
/// `group`) shows growing. A round's failures are logged and retried at the next interval; the
/// service ends only on cancellation or graceful shutdown.
///
/// - Important: Run it only while the flow runs in the failover direction it checkpoints, and
///   stop it before a reverse flow starts: its commits at the target are for groups consuming at
///   the source.
public final class GroupCheckpointer: Service, Sendable {
    /// What one round did.
    public struct Round: Sendable {
        /// The checkpoints taken and stored in this round.
        public var checkpoints: [GroupCheckpoint]
        /// Groups with partitions beyond the map at read time, and the records at risk (copied
        /// later, or the unmirrored tail if the source is lost now).
        public var recordsAtRisk: [ConsumerGroupID: Int64]
        /// Groups committed at the target (no active members there).
        public var committed: [ConsumerGroupID]
        /// Groups whose offsets could not be read or committed, with the reason.
        public var groupErrors: [ConsumerGroupID: String]
    }

    private struct State: Sendable {
        var latest: [ConsumerGroupID: GroupCheckpoint] = [:]
        var lastCommitted: [ConsumerGroupID: [TopicPartition: Offset]] = [:]
        var gauges: [ConsumerGroupID: Gauge] = [:]
        /// Set by ``GroupCheckpointer/retire()``: no store or commit starts any more.
        var retired = false
        /// Rounds storing or committing now.
        var writing = 0
        /// The selected source partitions as last listed, and when.
        var sourcePartitions: (listedAt: Date, partitions: Set<TopicPartition>)?
    }

    /// How long a listing of the source's partitions is used before it is listed again (sooner
    /// when the map holds a partition the listing lacks: a topic new since).
    static let sourceListingLifetime: TimeInterval = 30

    /// The label of the checkpoint-age gauge (seconds since the group's newest checkpoint read
    /// its source offsets); dimensions `flow` (`dc-a->dc-b`) and `group`.
    public static let ageLabel = "switchback_mirror_checkpoint_age_seconds"

    public let configuration: FlowConfiguration
    private let offsetMap: @Sendable () -> OffsetMap?
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let clock: any Clock<Duration>
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    /// Checkpoints the groups of `flow`'s source, translating with the flow's live map.
    ///
    /// - Parameters:
    ///   - metricsFactory: where the age gauge goes (default: `MetricsSystem.factory`).
    ///   - clock: the interval's time (tests pass a manual clock).
    ///   - now: the wall clock stamped into checkpoints (`readAt`) and against which ages are measured.
    public convenience init(
        flow: Flow, logger: Logger = Logger(label: "switchback.mirror.checkpoints"),
        metricsFactory: (any MetricsFactory)? = nil, clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(configuration: flow.configuration, offsetMap: { flow.offsetMapSnapshot() }, logger: logger,
                  metricsFactory: metricsFactory, clock: clock, now: now)
    }

    /// Checkpoints the groups of a flow whose map comes from `offsetMap` (`nil`: not loaded yet;
    /// the round is skipped).
    public init(
        configuration: FlowConfiguration, offsetMap: @escaping @Sendable () -> OffsetMap?,
        logger: Logger = Logger(label: "switchback.mirror.checkpoints"),
        metricsFactory: (any MetricsFactory)? = nil, clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.offsetMap = offsetMap
        var logger = logger
        logger[metadataKey: "flow"] = "\(configuration.flow)"
        self.logger = logger
        self.metricsFactory = metricsFactory ?? MetricsSystem.factory
        self.clock = clock
        self.now = now
    }

    /// The newest checkpoint stored of each group.
    public var latest: [ConsumerGroupID: GroupCheckpoint] { state.withLock { $0.latest } }

    /// Stores and commits nothing from now on; a round already writing finishes its writes
    /// (``isWriting`` says when). Why: a promotion positions the groups at the target once the
    /// flow has stopped, and a checkpointer blocked on a blackholed source (reads that wait out
    /// their timeouts) must neither hold the promotion up nor commit an older position after it.
    public func retire() { state.withLock { $0.retired = true } }

    /// Whether a round is storing checkpoints or committing them at the target now.
    public var isWriting: Bool { state.withLock { $0.writing > 0 } }

    /// Checkpoints every interval until cancelled or shut down gracefully.
    public func run() async throws {
        let store = GroupCheckpointStore(configuration: configuration, logger: logger)
        // What an earlier run stored: the file keeps holding every group, and ages keep counting.
        if let known = try? store.readFile() { state.withLock { $0.latest.merge(known) { $1 } } }
        let clients = try await Clients(configuration: configuration, logger: logger)
        await cancelWhenGracefulShutdown { await self.rounds(on: self.clock, clients: clients, store: store) }
        await clients.producer.shutdown(timeout: .seconds(5))
    }

    /// One round every interval, measured from round start to round start: a round that takes
    /// long (a busy source) does not push the next one an interval further, so the newest
    /// checkpoint is at most about one interval old when the source fails.
    private func rounds<C: Clock<Duration>>(on clock: C, clients: Clients, store: GroupCheckpointStore) async {
        while !Task.isCancelled {
            let started = clock.now
            do {
                let round = try await checkpoint(using: clients, store: store)
                for (group, reason) in round.groupErrors { logger.warning("\(group): \(reason)") }
            } catch {
                logger.warning("checkpoint round failed: \(error); the stored checkpoints keep their age")
            }
            updateAges()
            do {
                try await clock.sleep(until: started.advanced(by: configuration.checkpointInterval), tolerance: nil)
            } catch {
                return
            }
        }
    }

    /// Takes one round of checkpoints now (the runbooks' checkpoint-groups step).
    public func checkpointNow() async throws(MirrorError) -> Round {
        let clients = try await Clients(configuration: configuration, logger: logger)
        let outcome: Result<Round, MirrorError>
        do {
            outcome = .success(try await checkpoint(using: clients, store: GroupCheckpointStore(configuration: configuration, logger: logger)))
        } catch {
            outcome = .failure(error)
        }
        await clients.producer.shutdown(timeout: .seconds(5))
        updateAges()
        return try outcome.get()
    }

    // MARK: One round

    /// The clients a round uses, made once per run.
    private struct Clients: Sendable {
        let source: KafkaAdmin
        let target: KafkaAdmin
        let producer: KafkaProducer

        init(configuration: FlowConfiguration, logger: Logger) async throws(MirrorError) {
            let flow = configuration.flow
            do {
                source = try KafkaAdmin(configuration: configuration.source.clientConfiguration(clientID: "switchback-checkpoints"), logger: logger)
                target = try KafkaAdmin(configuration: configuration.target.clientConfiguration(clientID: "switchback-checkpoints"), logger: logger)
                producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
                    client: configuration.target.clientConfiguration(clientID: "switchback-checkpoints-\(flow.source)-\(flow.target)"),
                    linger: .milliseconds(1), deliveryTimeout: max(.seconds(5), configuration.checkpointInterval * 5)), logger: logger)
            } catch {
                throw MirrorError(.kafka, "cannot create the checkpoint clients of \(flow): \(error); check the bootstrap "
                    + "servers and client properties")
            }
        }
    }

    private func checkpoint(using clients: Clients, store: GroupCheckpointStore) async throws(MirrorError) -> Round {
        let flow = configuration.flow
        var round = Round(checkpoints: [], recordsAtRisk: [:], committed: [], groupErrors: [:])
        guard let map = offsetMap() else { return round }
        try await store.ensureTopic(admin: clients.target)
        let groups: [ConsumerGroupID]
        do {
            let listed = try await clients.source.listConsumerGroups()
            if !listed.errors.isEmpty {
                throw MirrorError(.kafka, "listing consumer groups on \(flow.source) was incomplete: \(listed.errors.map(\.description))",
                                  isRetriable: true)
            }
            groups = listed.groups.compactMap { ConsumerGroupID(kafka: $0.id) }
                .filter { !$0.isInternal && configuration.groups.decision(for: $0).isSelected }
                .sorted()
        } catch let error as MirrorError {
            throw error
        } catch {
            throw MirrorError(.kafka, "cannot list consumer groups on \(flow.source): \(error)", isRetriable: true)
        }
        // Every partition of the selected source topics, not only those the map holds: a
        // checkpoint taken as the flow starts copying a new topic (or partition) must still
        // carry the group's position there. The failover translates it with the map as it is
        // then; left out, it read "no commit" and the group started that partition over.
        let mapped = Set(map.partitions.keys)
        let partitions = try await selectedSourcePartitions(clients.source, mapped: mapped).union(mapped).sorted()
        guard !partitions.isEmpty else { return round }

        var plans: [GroupTranslationPlan] = []
        for group in groups {
            let committed: [KafkaClient.TopicPartition: KafkaClient.Offset]
            let readAt = now()
            do {
                committed = try await clients.source.committedOffsets(group: group.kafka, partitions: partitions.map(\.kafka))
            } catch {
                round.groupErrors[group] = "cannot read its committed offsets on \(flow.source): \(error)"
                continue
            }
            var source: [TopicPartition: Offset] = [:]
            for (partition, offset) in committed where offset.rawValue >= 0 {
                if let converted = TopicPartition(kafka: partition) { source[converted] = Offset(kafka: offset) }
            }
            let active: Bool
            do {
                active = try await hasActiveMembers(group, admin: clients.target)
            } catch {
                // Unknown membership: store the checkpoint, commit nothing this round.
                round.groupErrors[group] = "cannot read its members on \(flow.target): \(error); not committed there this round"
                active = true
            }
            var offsets: [TopicPartition: Offset?] = Dictionary(uniqueKeysWithValues: partitions.map { ($0, nil) })
            for (partition, offset) in source { offsets[partition] = offset }
            let plan = GroupTranslationPlan(
                offsets: GroupOffsets(group: group, committed: offsets), direction: .failover, map: map,
                naming: configuration.naming, topics: configuration.topics, groups: configuration.groups,
                activeMembersAtDestination: active)
            var target: [TopicPartition: Offset] = [:]
            var atRisk: Int64 = 0
            for entry in plan.entries {
                switch entry.translation {
                case .mapped(let offset), .caughtUp(let offset):
                    if let destination = entry.destination { target[destination] = offset }
                case .beyondMirrored(_, let records):
                    atRisk &+= records
                default:
                    break
                }
            }
            if atRisk > 0 { round.recordsAtRisk[group] = atRisk }
            round.checkpoints.append(GroupCheckpoint(group: group, source: source, target: target, readAt: readAt))
            if !active { plans.append(plan) }
        }

        // Retired while reading: write nothing. Otherwise the writes below count as in flight.
        let all: [GroupCheckpoint]? = state.withLock { state in
            guard !state.retired else { return nil }
            state.writing += 1
            for checkpoint in round.checkpoints { state.latest[checkpoint.group] = checkpoint }
            return Array(state.latest.values)
        }
        guard let all else { return round }
        defer { state.withLock { $0.writing -= 1 } }
        try await store.store(round.checkpoints, all: all, producer: clients.producer)

        let service = OffsetTranslationService(configuration: configuration, logger: logger, now: now)
        for plan in plans {
            let commits = plan.commits
            if state.withLock({ $0.retired || $0.lastCommitted[plan.group] == commits }) { continue }
            var result = GroupTranslationResult(report: TranslationReport(plans: []), dryRun: false, commitFailures: [:], groupErrors: [:])
            await service.execute(plan, dryRun: false, admin: clients.target, into: &result)
            if let failures = result.commitFailures[plan.group], !failures.isEmpty {
                round.groupErrors[plan.group] = "committing at \(flow.target) failed: "
                    + failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                continue
            }
            state.withLock { $0.lastCommitted[plan.group] = commits }
            round.committed.append(plan.group)
        }
        return round
    }

    /// The partitions of the selected source topics, from the last listing while it is fresh
    /// and holds every partition of `mapped`.
    private func selectedSourcePartitions(_ admin: KafkaAdmin, mapped: Set<TopicPartition>) async throws(MirrorError) -> Set<TopicPartition> {
        let listedAt = now()
        if let cached = state.withLock({ $0.sourcePartitions }), mapped.isSubset(of: cached.partitions),
            listedAt.timeIntervalSince(cached.listedAt) < Self.sourceListingLifetime
        {
            return cached.partitions
        }
        let listed: Set<TopicPartition>
        do {
            listed = Set(try await admin.listTopics().values
                .filter { !$0.name.isInternal && $0.error == nil }
                .flatMap { topic in topic.partitions.compactMap { TopicPartition(kafka: KafkaClient.TopicPartition(topic.name, $0.partition)) } }
                .filter { partition in
                    configuration.topics.decision(for: partition.topic).isSelected
                        && configuration.naming.targetTopic(for: partition.topic, from: configuration.source.site, to: configuration.target.site) != nil
                })
        } catch {
            throw MirrorError(.kafka, "cannot list the topics of \(configuration.flow.source): \(error)", isRetriable: true)
        }
        state.withLock { $0.sourcePartitions = (listedAt, listed) }
        return listed
    }

    private func hasActiveMembers(_ group: ConsumerGroupID, admin: KafkaAdmin) async throws -> Bool {
        try await OffsetTranslationService(configuration: configuration, logger: logger).hasActiveMembers(group, admin: admin)
    }

    /// Sets each group's age gauge from its newest stored checkpoint.
    private func updateAges() {
        let now = self.now()
        let flow = "\(configuration.flow.source)->\(configuration.flow.target)"
        let factory = metricsFactory
        let ages: [(Gauge, Double)] = state.withLock { state in
            state.latest.values.map { checkpoint in
                let gauge = state.gauges[checkpoint.group] ?? Gauge(
                    label: Self.ageLabel, dimensions: [("flow", flow), ("group", checkpoint.group.rawValue)], factory: factory)
                state.gauges[checkpoint.group] = gauge
                return (gauge, max(0, now.timeIntervalSince(checkpoint.readAt)))
            }
        }
        for (gauge, age) in ages { gauge.record(age) }
    }
}
