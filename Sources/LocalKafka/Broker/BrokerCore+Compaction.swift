/// The explicit log-cleaner trigger (the periodic one runs in `runMaintenance`).
extension BrokerCore {
    /// Compacts every partition of `topic` now.
    func compact(topic: String) throws(StorageError) -> CompactionReport {
        guard !isStorageClosed else {
            throw StorageError(.io(path: configuration.dataDirectory.path, errno: 0), "LocalKafka is stopping; compact after it restarts")
        }
        return try store.compact(topic: topic, nowMs: nowMs)
    }
}
