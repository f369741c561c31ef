extension LogStore {
    /// Compacts every partition of `topic` now, whether or not anything changed since the last
    /// cleaning (the operator's and tests' deterministic trigger).
    ///
    /// - Parameter nowMs: the time tombstone expiry (`delete.retention.ms`) is measured against.
    /// - Throws: `.unknownTopicOrPartition` for an unknown topic, `.invalidConfig` when the
    ///   topic's `cleanup.policy` does not include `compact`, or the I/O error that stopped it.
    public func compact(topic name: String, nowMs: Int64) throws(StorageError) -> CompactionReport {
        guard let logs = partitions[name], let topicSettings = settings[name] else { throw .unknownTopic(name) }
        guard topicSettings.compacts else {
            let policy = topicSettings.cleanupPolicy.joined(separator: ",")
            throw StorageError(
                .invalidConfig(key: TopicConfigKey.cleanupPolicy, value: policy, reason: "does not include compact"),
                "topic '\(name)' has cleanup.policy=\(policy); only topics whose cleanup.policy includes compact are compacted"
            )
        }
        var reports: [PartitionCompactionReport] = []
        for log in logs {
            if let report = try log.compact(nowMs: nowMs) { reports.append(report) }
        }
        return CompactionReport(topic: name, partitions: reports)
    }

    /// The periodic cleaner's pass: compacts the partitions of compacted topics that changed
    /// since their last cleaning. A failing partition is logged and skipped.
    @discardableResult
    public func compactChangedPartitions(nowMs: Int64) -> [CompactionReport] {
        var reports: [CompactionReport] = []
        for (name, logs) in partitions.sorted(by: { $0.key < $1.key }) {
            var cleaned: [PartitionCompactionReport] = []
            for log in logs where log.needsCompaction(nowMs: nowMs) {
                do {
                    if let report = try log.compact(nowMs: nowMs) { cleaned.append(report) }
                } catch {
                    log.logger.error("compaction failed", metadata: ["partition": "\(name)-\(log.partition)", "error": "\(error)"])
                }
            }
            if !cleaned.isEmpty { reports.append(CompactionReport(topic: name, partitions: cleaned)) }
        }
        return reports
    }
}
