import Metrics

/// The flow's metrics, per flow and source partition (swift-metrics, so any backend works;
/// the agent exports them to Prometheus).
///
/// - `switchback_mirror_records_total` / `switchback_mirror_bytes_total` (Counter): records and
///   bytes (key + value + headers) copied.
/// - `switchback_mirror_lag_records` (Gauge): source log end − next source offset to copy.
/// - `switchback_mirror_lag_ms` (Timer, in milliseconds): from the source record's timestamp
///   to the target's acknowledgement of its copy.
/// Dimensions: `flow` (`dc-a->dc-b`), `topic` (source topic), `partition`.
struct FlowMetrics {
    static let recordsLabel = "switchback_mirror_records_total"
    static let bytesLabel = "switchback_mirror_bytes_total"
    static let lagRecordsLabel = "switchback_mirror_lag_records"
    static let lagTimeLabel = "switchback_mirror_lag_ms"

    struct PartitionMetrics {
        let records: Counter
        let bytes: Counter
        let lagRecords: Gauge
        let lagTime: Timer
    }

    let flow: FlowID
    let factory: any MetricsFactory
    private var partitions: [TopicPartition: PartitionMetrics] = [:]

    init(flow: FlowID, factory: any MetricsFactory) {
        self.flow = flow
        self.factory = factory
    }

    mutating func metrics(for partition: TopicPartition) -> PartitionMetrics {
        if let existing = partitions[partition] { return existing }
        let dimensions = [
            ("flow", "\(flow.source)->\(flow.target)"), ("topic", partition.topic.rawValue),
            ("partition", String(partition.partition.rawValue)),
        ]
        let created = PartitionMetrics(
            records: Counter(label: Self.recordsLabel, dimensions: dimensions, factory: factory),
            bytes: Counter(label: Self.bytesLabel, dimensions: dimensions, factory: factory),
            lagRecords: Gauge(label: Self.lagRecordsLabel, dimensions: dimensions, factory: factory),
            lagTime: Timer(label: Self.lagTimeLabel, dimensions: dimensions, preferredDisplayUnit: .milliseconds, factory: factory))
        partitions[partition] = created
        return created
    }
}
