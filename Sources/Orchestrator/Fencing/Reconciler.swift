import Consensus
import KafkaClient
import Logging
import Mirror
import Sites

/// When a failed site returns: finds the records it accepted that the flow never mirrored and
/// copies them to the active site, once.
///
/// `flow` is the *forward* flow, from the returned site (its source) to the now active site
/// (its target, where its offset map is stored). For each partition of the selected topics at
/// the returned site, the unmirrored stretch is
/// - from: after the flow's last mirrored source offset — the offset map's end (mapped or
///   accounted), or a later copy found at the end of the target partition (the map is stored
///   a little behind the writes) — and after anything an earlier reconcile already copied;
/// - to: the partition's log end recorded when the site was fenced (``FenceRecord/logEnds``):
///   no `acks=all` producer can have written past it. Reconcile refuses to run on a site that
///   is not fenced, since its end would still move.
///
/// Copies keep key, value, timestamp and headers, go to the same partition number of the
/// target topic (the naming policy's name: `dc-a.orders` under prefix, `orders` under
/// identity), and carry the provenance headers (`switchback-origin`, `switchback-source`)
/// and `switchback-recovered: <epoch>`. Records born at the active site are not copied back.
///
/// ## Exactly once across kill and rerun
/// A recovered copy carries `switchback-source` naming its source offset, exactly as a
/// mirrored copy does; a rerun scans the target partition from the map's last mapped target
/// offset and starts after the newest copy of this source partition it finds, mirrored or
/// recovered. The producer is idempotent and sends one partition's records in order, so what
/// an interrupted run left in the target is a prefix of the stretch: the rerun continues right
/// after it. Limit: a produce request already on the wire when the process died, landing after
/// the rerun's scan, would be written twice; the rerun runs after an agent restart, which
/// takes far longer than a request's flight.
///
/// Epoch-checked: before each partition, both clusters' `__switchback_state` are read; a newer
/// epoch than the reconcile's stops it (``FencingError/Code/staleEpoch``).
public struct Reconciler: Sendable {
    /// The header every recovered copy carries, with the epoch that recovered it.
    public static let recoveredKey = "switchback-recovered"

    public let flow: FlowConfiguration
    public let state: SiteStateTopic
    /// Records sent to the target per round (all awaited before the next).
    public var batchSize: Int
    /// The longest one read of a partition stretch may take.
    public var timeout: Duration
    private let logger: Logger

    public init(
        flow: FlowConfiguration, state: SiteStateTopic, batchSize: Int = 500, timeout: Duration = .seconds(120),
        logger: Logger = Logger(label: "switchback.reconcile")
    ) {
        self.flow = flow
        self.state = state
        self.batchSize = max(1, batchSize)
        self.timeout = timeout
        self.logger = logger
    }

    private var source: FlowEndpoint { flow.source }
    private var target: FlowEndpoint { flow.target }

    /// Copies every unmirrored record of the returned site to the active site, for `epoch`.
    public func reconcile(epoch: Epoch) async throws(FencingError) -> ReconcileReport {
        try await run(epoch: epoch, dryRun: false)
    }

    /// Finds the unmirrored stretches and counts their records, copying nothing (dry run).
    public func plan(epoch: Epoch) async throws(FencingError) -> ReconcileReport {
        try await run(epoch: epoch, dryRun: true)
    }

    private func run(epoch: Epoch, dryRun: Bool) async throws(FencingError) -> ReconcileReport {
        let fence = try await checkEpoch(epoch)
        guard let fence, fence.state == .fenced, fence.logEnds != nil else {
            throw FencingError(.notFenced, "\(source.site) is not fenced"
                + (fence.map { " (its newest fence record: \($0))" } ?? "")
                + "; fence it first (fence-site), so its log ends stop moving and reconcile knows where the unmirrored records end")
        }
        let map: OffsetMap
        do {
            map = try await OffsetTranslationService(configuration: flow, logger: logger).loadOffsetMap()
        } catch {
            throw FencingError(.kafka, "loading the offset map of \(flow.flow) from \(target.site): \(error.message)", isRetriable: error.isRetriable)
        }
        let sourceAdmin = try source.admin("switchback-reconcile", logger: logger)
        let targetAdmin = try target.admin("switchback-reconcile", logger: logger)
        let sourceTopics = try await topics(sourceAdmin, source.site)
        let targetTopics = try await topics(targetAdmin, target.site)
        let producer = dryRun ? nil : try target.idempotentProducer("switchback-reconcile", deliveryTimeout: timeout, logger: logger)
        var results: [ReconcileReport.PartitionResult] = []
        do throws(FencingError) {
            for (name, metadata) in sourceTopics.sorted(by: { $0.key < $1.key }) {
                guard let topic = MirrorTopicName(rawValue: name.rawValue), flow.topics.selects(topic),
                    let targetTopic = flow.naming.targetTopic(for: topic, from: source.site, to: target.site)
                else { continue }
                for partition in metadata.partitions.map(\.partition).sorted() {
                    _ = try await checkEpoch(epoch)
                    guard let end = fence.logEnd(topic: name.rawValue, partition: partition.rawValue) else {
                        logger.warning("\(name)/\(partition) at \(source.site) has no log end in the fence record (created after the fence); not reconciled")
                        continue
                    }
                    guard let partitions = targetTopics[KafkaClient.TopicName(targetTopic.rawValue)]?.partitions.count,
                        partition.rawValue < partitions
                    else {
                        throw FencingError(.cannotCopy, "\(target.site) has no partition \(partition) of \(targetTopic) to copy "
                            + "\(name)/\(partition) of \(source.site) into; let the flow provision it (or create it with as many "
                            + "partitions as \(name) has), then reconcile again")
                    }
                    results.append(try await reconcile(
                        topic: topic, partition: partition, targetTopic: targetTopic, end: KafkaClient.Offset(end),
                        map: map, epoch: epoch, producer: producer, admin: sourceAdmin))
                }
            }
        } catch {
            // Cancelled: stop as a killed process would, dropping what is not yet sent (an
            // in-order prefix of the stretch is in the target; a rerun continues after it).
            await producer?.shutdown(timeout: error.code == .cancelled ? .zero : .seconds(10))
            throw error
        }
        await producer?.shutdown(timeout: .seconds(10))
        let report = ReconcileReport(epoch: epoch, source: source.site, target: target.site, dryRun: dryRun, partitions: results)
        logger.notice("\(report)")
        return report
    }

    /// Reads both clusters' state and refuses to go on for an older epoch than either records.
    /// - Returns: the returned site's fence record.
    private func checkEpoch(_ epoch: Epoch) async throws(FencingError) -> FenceRecord? {
        let action = "reconciling \(source.site) into \(target.site)"
        try await state.readState(on: target).admit(epoch, action: action)
        let returned = try await state.readState(on: source)
        try returned.admit(epoch, action: action)
        return returned.fences[source.site]
    }

    private func reconcile(
        topic: MirrorTopicName, partition: KafkaClient.Partition, targetTopic: MirrorTopicName, end: KafkaClient.Offset,
        map: OffsetMap, epoch: Epoch, producer: KafkaProducer?, admin: KafkaAdmin
    ) async throws(FencingError) -> ReconcileReport.PartitionResult {
        let sourcePartition = KafkaClient.TopicPartition(KafkaClient.TopicName(topic.rawValue), partition)
        let targetPartition = KafkaClient.TopicPartition(KafkaClient.TopicName(targetTopic.rawValue), partition)
        guard let partitionID = MirrorPartitionID(rawValue: partition.rawValue) else {
            throw FencingError(.cannotCopy, "\(sourcePartition) has a negative partition number")
        }
        let mapped = map[MirrorTopicPartition(topic, partitionID)]
        let mirroredEnd = max(mapped.ranges.last?.sourceEnd.rawValue ?? 0, mapped.accountedEnd.rawValue)
        let copied = try await copiesAtTarget(
            of: SourceKey(site: source.site, topic: topic, partition: partitionID), in: targetPartition,
            from: map.catchUpStart(for: MirrorTopicPartition(topic, partitionID)).rawValue)
        let logStart: Int64
        do {
            logStart = try await admin.watermarks(of: sourcePartition, timeout: timeout).low.rawValue
        } catch {
            throw FencingError.kafka("reading the log start of \(sourcePartition) on \(source.site)", error)
        }
        let start = max(logStart, mirroredEnd, copied.nextSourceOffset ?? 0)
        var result = ReconcileReport.PartitionResult(
            topic: topic.rawValue, partition: partition.rawValue, targetTopic: targetTopic.rawValue,
            from: start, to: max(start, end.rawValue), count: 0, skippedBornAtTarget: 0, alreadyRecovered: copied.recovered)
        guard start < end.rawValue else { return result }

        let recoveredHeader = KafkaHeader(key: Self.recoveredKey, string: String(epoch.rawValue))
        let reader = PartitionRangeReader(client: source.kafkaClient("switchback-reconcile"), logger: logger, timeout: timeout)
        let sourceSite = source.site
        let targetSite = target.site
        try await reader.read([sourcePartition: KafkaClient.Offset(start)..<end]) { records throws(FencingError) in
            var copies: [(ProducerRecord, Int64)] = []
            for record in records {
                let headers = record.headers.map { RecordHeader(key: $0.key, value: $0.value) }
                guard Provenance.shouldCopy(recordHeaders: headers, to: targetSite) else {
                    result.skippedBornAtTarget += 1
                    continue
                }
                let copyHeaders = Provenance.headersForCopy(
                    existing: headers.filter { $0.key != Self.recoveredKey }, sourceSite: sourceSite, topic: topic,
                    partition: partitionID, offset: MirrorOffset(record.offset.rawValue))
                copies.append((ProducerRecord(
                    topic: targetPartition.topic, partition: partition, key: record.key, value: record.value,
                    headers: copyHeaders.map { KafkaHeader(key: $0.key, value: $0.value) } + [recoveredHeader],
                    timestamp: record.timestamp), record.offset.rawValue))
            }
            for chunk in stride(from: 0, to: copies.count, by: batchSize).map({ copies[$0..<min($0 + batchSize, copies.count)] }) {
                if Task.isCancelled { throw FencingError.cancelled("copying \(sourcePartition) to \(targetSite)") }
                if let producer {
                    let delivered = await send(chunk.map(\.0), producer)
                    if let failure = delivered {
                        throw FencingError.kafka("copying \(sourcePartition) to \(targetSite)'s \(targetPartition)", failure)
                    }
                }
                result.count += chunk.count
                result.firstSourceOffset = result.firstSourceOffset ?? chunk.first?.1
                result.lastSourceOffset = chunk.last?.1 ?? result.lastSourceOffset
            }
        }
        return result
    }

    /// Sends one round and waits for all of it: the first failure, or `nil`.
    private func send(_ records: [ProducerRecord], _ producer: KafkaProducer) async -> KafkaError? {
        do {
            for outcome in try await producer.send(records) {
                if case .failure(let error) = outcome { return error }
            }
            return nil
        } catch {
            return error
        }
    }

    private struct SourceKey {
        var site: SiteID
        var topic: MirrorTopicName
        var partition: MirrorPartitionID
    }

    /// What the target partition already holds of the source partition after `from`: the source
    /// offset after its newest copy (mirrored or recovered), and how many copies were recovered.
    private func copiesAtTarget(of key: SourceKey, in partition: KafkaClient.TopicPartition, from: Int64) async throws(FencingError)
        -> (nextSourceOffset: Int64?, recovered: Int)
    {
        let admin = try target.admin("switchback-reconcile", logger: logger)
        let high: KafkaClient.Offset
        do {
            high = try await admin.watermarks(of: partition, timeout: timeout).high
        } catch {
            throw FencingError.kafka("reading the log end of \(partition) on \(target.site)", error)
        }
        var next: Int64?
        var recovered = 0
        let reader = PartitionRangeReader(client: target.kafkaClient("switchback-reconcile"), logger: logger, timeout: timeout)
        try await reader.read([partition: KafkaClient.Offset(from)..<high]) { records throws(FencingError) in
            for record in records {
                let headers = record.headers.map { RecordHeader(key: $0.key, value: $0.value) }
                guard let position = Provenance.source(in: headers).value, position.site == key.site,
                    position.topic == key.topic, position.partition == key.partition
                else { continue }
                next = max(next ?? 0, position.offset.rawValue + 1)
                if headers.contains(where: { $0.key == Self.recoveredKey }) { recovered += 1 }
            }
        }
        return (next, recovered)
    }

    private func topics(_ admin: KafkaAdmin, _ site: SiteID) async throws(FencingError) -> [KafkaClient.TopicName: TopicMetadata] {
        do {
            return try await admin.listTopics(timeout: timeout).filter { !$0.key.isInternal && $0.value.error == nil }
        } catch {
            throw FencingError.kafka("listing the topics of \(site)", error)
        }
    }
}
