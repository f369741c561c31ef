import Consensus
import KafkaClient
import Logging
import Mirror
import Sites

/// Each cluster's `__switchback_state` topic (compacted, one partition): the newest epoch and
/// its ``SiteConfig`` (``ClusterEpochRecord``), and the fence records of the site
/// (``FenceRecord``). Created on the first write.
///
/// ## How read-check-write is made safe enough
/// Kafka has no compare-and-set, so ``record(_:on:)`` cannot make "read, check, write" atomic.
/// Three things together make a stale writer harmless instead:
/// 1. every record is keyed by its epoch, so no write ever replaces another epoch's record
///    (compaction keeps one per key), and readers take the highest epoch present
///    (``SiteState``), not the last one written: a stale record that lands after a newer one
///    changes nothing anyone reads;
/// 2. the write is refused when the read before it finds a newer epoch (the common case: an
///    agent that was cut off and comes back);
/// 3. after writing, the topic is read again to its end (a fencing read): if a newer epoch
///    arrived meanwhile, the call throws ``FencingError/Code/staleEpoch`` so the caller stops
///    acting for its epoch, although its own record was written.
/// The producer is idempotent (`acks=all`), so a retried send does not write twice.
///
/// Limits: two writers of the *same* epoch with different configurations could both land and
/// the last one wins — the election commits one configuration per epoch, so this needs a bug
/// elsewhere, and ``record(_:on:)`` refuses a second configuration for an epoch it can see.
/// One record per epoch stays in the topic (a few hundred bytes each; epochs are rare).
/// A cluster that cannot be reached keeps its older record until its agent writes again.
public struct SiteStateTopic: Sendable {
    /// The topic's name on every cluster.
    public static let name: KafkaClient.TopicName = "__switchback_state"
    static let partition = KafkaClient.TopicPartition(name, 0)

    /// The site whose agent writes (recorded in every epoch record).
    public let writer: SiteID
    /// The longest one read or write may take.
    public var timeout: Duration
    private let logger: Logger

    public init(writer: SiteID, timeout: Duration = .seconds(30), logger: Logger = Logger(label: "switchback.state")) {
        self.writer = writer
        self.timeout = timeout
        self.logger = logger
    }

    // MARK: The contract

    /// The newest configuration the cluster records, `nil` when it records none yet.
    public func read(on cluster: FlowEndpoint) async throws(FencingError) -> SiteConfig? {
        try await readState(on: cluster).epochRecord?.config
    }

    /// Records `config` as the cluster's newest, unless the cluster already records a newer
    /// epoch. Idempotent: recording the same configuration again writes nothing.
    /// - Returns: the record now in force.
    /// - Throws: ``FencingError/Code/staleEpoch`` when a newer epoch is there (before or,
    ///   found by the fencing read, after the write); ``FencingError/Code/malformedState`` when
    ///   the cluster records a different configuration for the same epoch.
    @discardableResult
    public func record(_ config: SiteConfig, on cluster: FlowEndpoint) async throws(FencingError) -> ClusterEpochRecord {
        let action = "recording \(config) on \(cluster.site)"
        let before = try await readState(on: cluster)
        try before.admit(config.epoch, action: action)
        if let current = before.epochRecord, current.epoch == config.epoch {
            guard current.config == config else {
                throw FencingError(.malformedState, "\(cluster.site)'s \(Self.name) records \(current.config) for \(config.epoch), "
                    + "not \(config): two configurations for one epoch; check which agent wrote it")
            }
            return current
        }
        let record = ClusterEpochRecord(config: config, recordedBy: writer)
        try await write([.epoch(record)], on: cluster)
        let after = try await readState(on: cluster)
        try after.admit(config.epoch, action: action)
        return after.epochRecord ?? record
    }

    /// Reads the cluster's state and refuses `action` for `epoch` when a newer epoch is
    /// recorded there: what a flow, a checkpoint writer or any other writer to the cluster
    /// calls before acting (and stops on ``FencingError/Code/staleEpoch``).
    public func admit(_ epoch: Epoch, action: String, on cluster: FlowEndpoint) async throws(FencingError) {
        try await readState(on: cluster).admit(epoch, action: action)
    }

    // MARK: Everything in the topic

    /// Reads the whole topic to its end; an empty state when the topic does not exist yet (a
    /// read never creates it, so a dry run changes nothing).
    public func readState(on cluster: FlowEndpoint) async throws(FencingError) -> SiteState {
        let admin = try cluster.admin("switchback-state", logger: logger)
        let marks: Watermarks
        do {
            guard try await admin.listTopics(timeout: timeout)[Self.name] != nil else { return SiteState() }
            marks = try await admin.watermarks(of: Self.partition, timeout: timeout)
        } catch {
            throw FencingError.kafka("reading the offsets of \(Self.name) on \(cluster.site)", error)
        }
        var state = SiteState()
        let reader = PartitionRangeReader(client: cluster.kafkaClient("switchback-state"), logger: logger, timeout: timeout)
        let logger = self.logger
        try await reader.read([Self.partition: marks.low..<marks.high]) { records throws(FencingError) in
            for record in records {
                do throws(FencingError) {
                    if let entry = try SiteStateEntry.decode(key: record.key, value: record.value) { state.apply(entry) }
                } catch {
                    // One bad record must not stop every fence and reconcile; it is reported.
                    logger.warning("skipping \(Self.name)@\(record.offset) on \(cluster.site): \(error.message)")
                }
            }
        }
        return state
    }

    /// Writes entries (each keyed by its epoch) and waits until the cluster has them.
    func write(_ entries: [SiteStateEntry], on cluster: FlowEndpoint) async throws(FencingError) {
        try await ensureTopic(try cluster.admin("switchback-state", logger: logger), cluster)
        let producer = try cluster.idempotentProducer("switchback-state", deliveryTimeout: timeout, logger: logger)
        do throws(FencingError) {
            for entry in entries {
                do {
                    _ = try await producer.send(ProducerRecord(
                        topic: Self.name, partition: Self.partition.partition, key: Array(entry.key.utf8), value: entry.encodedValue()))
                } catch {
                    throw FencingError.kafka("writing \(entry.key) to \(Self.name) on \(cluster.site)", error)
                }
            }
        } catch {
            await producer.shutdown(timeout: .seconds(5))
            throw error
        }
        await producer.shutdown(timeout: .seconds(5))
    }

    private func ensureTopic(_ admin: KafkaAdmin, _ cluster: FlowEndpoint) async throws(FencingError) {
        do {
            if try await admin.listTopics(timeout: timeout)[Self.name] != nil { return }
            let created = try await admin.createTopics(
                [NewTopic(name: Self.name, partitions: 1, configs: ["cleanup.policy": "compact"])], timeout: timeout)
            if case .failure(let error) = created[Self.name], error.code != .topicAlreadyExists { throw error }
        } catch {
            throw FencingError.kafka("creating \(Self.name) on \(cluster.site)", error)
        }
    }
}
