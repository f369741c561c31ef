import Foundation
import KafkaClient
import Logging
import Synchronization

/// The workload's producer: numbered, keyed records (`order-00000001`, …) at a set rate to
/// `orders` on the cluster the sidecar names, writing down where each was acknowledged.
///
/// It follows the sidecar as contracts.md says: on `serving` with a new epoch or bootstrap it
/// flushes briefly and closes the old producer and creates a new one; on `promoting`,
/// `switching` or `fenced` it stops producing and waits.
public final class OrderProducer: Sendable {
    private let follower: SidecarFollower
    private let ledger: Ledger
    private let rate: Double
    private let logger: Logger
    /// Sends whose acknowledgement has not come back, at most this many.
    static let maxInFlight = 500

    public init(follower: SidecarFollower, ledger: Ledger, rate: Double, logger: Logger) {
        self.follower = follower
        self.ledger = ledger
        self.rate = rate
        self.logger = logger
    }

    public static func key(_ number: Int) -> String { "order-" + String(format: "%08d", number) }

    /// Produces until cancelled; then flushes what is in flight.
    public func run() async {
        var producer: (client: KafkaProducer, epoch: UInt64, site: String, bootstrap: [String])?
        var number = 0
        var paceOrigin = ContinuousClock.now
        var sentSinceOrigin = 0
        let inFlight = InFlightCount()
        await withDiscardingTaskGroup { sends in
            while !Task.isCancelled {
                guard let target = follower.current, target.effectiveState == .serving, !target.bootstrapServers.isEmpty else {
                    try? await Task.sleep(for: .milliseconds(20))
                    paceOrigin = .now
                    sentSinceOrigin = 0
                    continue
                }
                if producer?.epoch != target.epoch || producer?.bootstrap != target.bootstrapServers {
                    if let old = producer?.client {
                        try? await old.flush(timeout: .seconds(1))
                        Task { await old.shutdown(timeout: .seconds(2)) }
                    }
                    var configuration = KafkaProducerConfiguration(bootstrapServers: target.bootstrapServers)
                    configuration.deliveryTimeout = .seconds(10)
                    configuration.client.clientID = "sandbox-producer"
                    guard let client = try? KafkaProducer(configuration: configuration, logger: logger) else {
                        try? await Task.sleep(for: .milliseconds(200))
                        continue
                    }
                    producer = (client, target.epoch, target.activeSite, target.bootstrapServers)
                    paceOrigin = .now
                    sentSinceOrigin = 0
                }
                guard let current = producer else { continue }
                let due = Int((ContinuousClock.now - paceOrigin).seconds * rate) - sentSinceOrigin
                var batch = min(due, Self.maxInFlight - inFlight.value)
                while batch > 0 {
                    number += 1
                    batch -= 1
                    sentSinceOrigin += 1
                    inFlight.add(1)
                    let key = Self.key(number)
                    let record = ProducerRecord(
                        topic: TopicName(LabLayout.topic), key: Array(key.utf8), value: Array(#"{"order":\#(number)}"#.utf8))
                    ledger.sent()
                    sends.addTask { [ledger] in
                        do {
                            let delivered = try await current.client.send(record)
                            ledger.acknowledged(key, Ledger.Acknowledgement(
                                site: current.site, topic: delivered.topic.rawValue, partition: delivered.partition.rawValue,
                                offset: delivered.offset.rawValue))
                        } catch {
                            ledger.refused()
                        }
                        inFlight.add(-1)
                    }
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
            await producer?.client.shutdown(timeout: .seconds(3))
        }
    }
}

/// Sends whose acknowledgement is still outstanding.
final class InFlightCount: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add(_ change: Int) { count.withLock { $0 += change } }
}
