import Foundation
import KafkaClient
import Logging

/// The workload's consumer group (`sandbox-orders`): subscribes with a pattern covering
/// `orders` and its mirrored copies (`^(.*\.)?orders$`), commits after each batch it reads,
/// and writes every delivered key down.
///
/// It follows the sidecar as contracts.md says: on `serving` with a new epoch or bootstrap it
/// closes the old consumer in the background (librdkafka's close can wait for a coordinator
/// that is gone) and joins the group on the new cluster; on `promoting`, `switching` or
/// `fenced` it stops reading and waits.
public final class OrderConsumer: Sendable {
    public static let group = GroupID("sandbox-orders")
    /// The header reconcile puts on records it republished.
    static let recoveredHeader = "switchback-recovered"

    private let follower: SidecarFollower
    private let ledger: Ledger
    private let logger: Logger

    public init(follower: SidecarFollower, ledger: Ledger, logger: Logger) {
        self.follower = follower
        self.ledger = ledger
        self.logger = logger
    }

    /// Reads until cancelled.
    public func run() async {
        var consumer: (client: KafkaConsumer, epoch: UInt64, bootstrap: [String])?
        while !Task.isCancelled {
            guard let target = follower.current, target.effectiveState == .serving, !target.bootstrapServers.isEmpty else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            if consumer?.epoch != target.epoch || consumer?.bootstrap != target.bootstrapServers {
                if let old = consumer?.client { Task { await old.close() } }
                consumer = nil
                var configuration = KafkaConsumerConfiguration(
                    client: KafkaClientConfiguration(bootstrapServers: target.bootstrapServers), groupID: Self.group,
                    offsetReset: .earliest, sessionTimeout: .seconds(6), heartbeatInterval: .seconds(1))
                configuration.client.clientID = "sandbox-consumer"
                configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
                do {
                    let client = try KafkaConsumer(configuration: configuration, logger: logger)
                    try client.subscribe([TopicName(LabLayout.topicPattern)])
                    consumer = (client, target.epoch, target.bootstrapServers)
                } catch {
                    logger.debug("consumer not created", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(200))
                    continue
                }
            }
            guard let current = consumer?.client else { continue }
            do {
                let batch = try await current.nextBatch()
                var next: [TopicPartition: Offset] = [:]
                for record in batch.records {
                    if let key = record.keyString {
                        let recovered = record.headers.contains { $0.key == Self.recoveredHeader }
                        ledger.delivered(key, recovered: recovered)
                    }
                    next[record.topicPartition] = max(next[record.topicPartition] ?? 0, record.offset.next)
                }
                try await current.commit(nextOffsets: next)
            } catch {
                logger.debug("consumer error", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        await consumer?.client.close()
    }
}
