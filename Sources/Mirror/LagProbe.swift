import KafkaClient
import Synchronization

/// Reads the source's log ends of a flow's partitions every interval, beside the copy loop,
/// for the lag gauges: a round trip per partition to a remote cluster must not hold up copying.
/// Failures leave the last known ends in place (the gauges go stale, copying goes on). The log
/// starts come with the same reads; the flow prunes its offset map below them.
final class LagProbe: Sendable {
    private let admin: KafkaAdmin
    private let interval: Duration
    private let partitions = Mutex<[TopicPartition]>([])
    private let ends = Mutex<[TopicPartition: Offset]>([:])
    private let starts = Mutex<[TopicPartition: Offset]>([:])

    init(admin: KafkaAdmin, interval: Duration) {
        self.admin = admin
        self.interval = interval
    }

    /// Sets the partitions to probe.
    func watch(_ partitions: [TopicPartition]) {
        self.partitions.withLock { $0 = partitions.sorted() }
    }

    /// The latest log ends read.
    var latest: [TopicPartition: Offset] { ends.withLock { $0 } }

    /// The latest log starts read (retention deletes below them).
    var latestStarts: [TopicPartition: Offset] { starts.withLock { $0 } }

    /// Probes until cancelled, every interval of `clock`.
    func run<C: Clock<Duration>>(clock: C) async {
        while !Task.isCancelled {
            for partition in partitions.withLock({ $0 }) {
                guard !Task.isCancelled else { return }
                if let marks = try? await admin.watermarks(of: partition.kafka) {
                    ends.withLock { $0[partition] = Offset(kafka: marks.high) }
                    starts.withLock { $0[partition] = Offset(kafka: marks.low) }
                }
            }
            do {
                try await clock.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
