import Foundation
import KafkaClient
import Logging
import Sites

/// The outcome of one probe of a cluster.
public struct ProbeOutcome: Sendable, Hashable {
    public var healthy: Bool
    /// How long the probe took (metadata plus canary round trip, or until it failed).
    public var latency: Duration
    /// Why it failed, for logs and status.
    public var failure: String?
}

/// Probes one site's Kafka cluster: a metadata request, then a canary record produced to
/// `__switchback_canary` and read back (DESIGN.md §6, step 1).
///
/// The clients are created once and reused, so a probe costs a few requests, not a
/// connection set-up. Each step has its own timeout, so one probe never takes longer than
/// about three probe timeouts, even against a cluster that accepts connections and never
/// answers.
public final class ClusterProbe: Sendable {
    public static let canaryTopic = TopicName("__switchback_canary")

    public let site: SiteID
    private let agent: String
    private let timeout: Duration
    private let admin: KafkaAdmin
    private let producer: KafkaProducer
    private let consumer: KafkaConsumer
    private let logger: Logger

    /// - Parameters:
    ///   - properties: the site's raw librdkafka properties (security settings).
    ///   - timeout: per step; a slower step fails the probe.
    public init(
        site: SiteID, agent: String, bootstrapServers: [String], properties: [String: String], timeout: Duration,
        logger: Logger
    ) throws(KafkaError) {
        self.site = site
        self.agent = agent
        self.timeout = timeout
        self.logger = logger
        let client = KafkaClientConfiguration(
            bootstrapServers: bootstrapServers, clientID: "switchback-probe-\(agent)",
            // Above fetch.wait.max.ms + 1 s as librdkafka asks; each probe step has its own
            // shorter timeout, so this only bounds requests nobody waits for any more.
            socketTimeout: max(timeout, .seconds(2)),
            properties: properties)
        admin = try KafkaAdmin(configuration: client, logger: logger)
        producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(
                client: client, idempotent: false, acks: .all, linger: .zero, deliveryTimeout: timeout),
            logger: logger)
        consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(client: client, fetchMaxWait: .milliseconds(50)), logger: logger)
    }

    /// Runs one probe. Never throws: a failure is an unhealthy outcome with its reason.
    public func probe() async -> ProbeOutcome {
        let start = ContinuousClock.now
        do {
            try await roundTrip()
            return ProbeOutcome(healthy: true, latency: ContinuousClock.now - start, failure: nil)
        } catch {
            return ProbeOutcome(healthy: false, latency: ContinuousClock.now - start, failure: "\(error)")
        }
    }

    /// Makes the first real probe as fast as the later ones: connects, creates the canary
    /// topic and lets the producer learn its metadata, retrying until one probe succeeds or
    /// `deadline` passes. Without this, the first probe after a start pays for topic creation
    /// and metadata propagation, and with a short `down_after` a healthy cluster would look
    /// down for a moment.
    /// - Returns: whether a probe succeeded before the deadline.
    public func warmUp(until deadline: ContinuousClock.Instant) async -> Bool {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let started = ContinuousClock.now
            if await probe().healthy { return true }
            try? await Task.sleep(until: min(deadline, started + .milliseconds(250)), clock: .continuous)
        }
        return false
    }

    public func shutdown() async {
        await producer.shutdown(timeout: .seconds(1))
        await consumer.close()
    }

    private func roundTrip() async throws {
        let topics = try await admin.listTopics(timeout: timeout)
        if topics[Self.canaryTopic] == nil {
            let created = try await admin.createTopics([NewTopic(name: Self.canaryTopic, partitions: 1, configs: ["retention.ms": "3600000"])], timeout: timeout)
            if case .failure(let error) = created[Self.canaryTopic], error.code != .topicAlreadyExists { throw error }
        }
        let marker = "\(agent)-\(UInt64.random(in: 0...UInt64.max))"
        let delivered = try await producer.send(
            ProducerRecord(topic: Self.canaryTopic, partition: Partition(0), key: agent, value: marker))
        try await readBack(marker: marker, at: delivered)
    }

    /// Reads the canary back from where it was stored, within the timeout.
    private func readBack(marker: String, at delivered: DeliveredRecord) async throws {
        let partition = TopicPartition(Self.canaryTopic, delivered.partition)
        try await consumer.assign([partition: .offset(delivered.offset)], timeout: timeout)
        let consumer = self.consumer
        let timeout = self.timeout
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for try await record in consumer.records where record.offset >= delivered.offset {
                    return record.value.map { String(decoding: $0, as: UTF8.self) } == marker
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let found = try await group.next() ?? false
            group.cancelAll()
            guard found else {
                throw AgentError("the canary record at offset \(delivered.offset) was not read back within \(timeout)")
            }
        }
    }
}
