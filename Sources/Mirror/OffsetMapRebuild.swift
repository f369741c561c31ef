extension OffsetMap {
    /// Where to start reading a target partition to bring this map up to date after a restart:
    /// one past the last mapped target offset (0 when nothing is mapped).
    ///
    /// The stored map can lag the target log (a crash between a delivery and the next store of
    /// updates); the records after this offset carry `switchback-source` headers that fill the gap.
    public func catchUpStart(for partition: TopicPartition) -> Offset {
        self[partition].ranges.last?.targetEnd ?? 0
    }

    /// Records the copies found in target records of the partition mirrored from `partition`
    /// (a *source* topic-partition), read in target-offset order from ``catchUpStart(for:)``.
    ///
    /// Records without a well-formed `switchback-source` header naming this flow's source site
    /// and `partition` are passed over (local producers under the identity policy). Copies the
    /// map already holds are harmless replays.
    ///
    /// - Returns: how many mappings were new.
    /// - Throws: ``MirrorError/Code/offsetMapConflict`` when a header contradicts the map.
    @discardableResult
    public mutating func recordCopies(
        of partition: TopicPartition, inTargetRecords records: some Sequence<(offset: Offset, headers: [RecordHeader])>
    ) throws(MirrorError) -> Int {
        var recorded = 0
        for record in records {
            guard let source = Provenance.source(in: record.headers).value, source.site == flow.source,
                source.topic == partition.topic, source.partition == partition.partition
            else { continue }
            if try self.record(partition, sourceOffset: source.offset, targetOffset: record.offset) == .recorded {
                recorded += 1
            }
        }
        return recorded
    }
}
