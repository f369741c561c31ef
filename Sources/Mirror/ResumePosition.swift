import Sites

/// Where a flow resumes reading a source partition, found from what it already wrote.
///
/// Exactly-once resume without transactions: the flow is the only writer of its target
/// partitions (prefix policy), so the last record of a target partition is the last copy that
/// was acknowledged, and its `switchback-source` header names the source offset it came from.
/// Resuming at that offset + 1 neither duplicates nor skips, whatever point a crash hit.
public enum ResumePosition {
    /// The source offset to resume at, from the headers of the last record of the target
    /// partition (`nil` when the target partition is empty).
    ///
    /// - Returns: `nil` when the target partition holds no record: nothing was mirrored yet and
    ///   the flow starts from its configured start position.
    /// - Throws: ``MirrorError/Code/cannotResume`` when the last record does not come from this
    ///   source partition (another writer, or a malformed header): guessing would duplicate or
    ///   skip records, so the flow must stop and report instead.
    public static func resumeOffset(
        afterLastTargetRecord headers: [RecordHeader]?,
        sourceSite: SiteID, sourceTopic: TopicName, partition: PartitionID
    ) throws(MirrorError) -> Offset? {
        guard let headers else { return nil }
        let expected = "\(sourceSite)/\(sourceTopic)/\(partition)"
        switch Provenance.source(in: headers) {
        case .absent:
            throw MirrorError(
                .cannotResume,
                "the last record of the target partition for \(expected) has no \(Provenance.sourceKey) header: "
                    + "something other than this flow writes to it; stop that writer, or use the identity "
                    + "policy's scanning resume")
        case .malformed(let error):
            throw MirrorError(.cannotResume, "cannot resume \(expected): \(error.message)")
        case .present(let position):
            return try next(after: position, expected: expected, sourceSite: sourceSite,
                            sourceTopic: sourceTopic, partition: partition)
        }
    }

    /// The source offset to resume at, scanning target records newest first and using the first
    /// one copied from this source partition; records from other writers are passed over.
    ///
    /// For target partitions shared with local producers (identity policy). Start the scan at
    /// the target partition's end and stop it at the offset map's last mapped target offset:
    /// everything older is already known.
    ///
    /// - Returns: `nil` when no scanned record came from this source partition.
    /// - Throws: ``MirrorError/Code/cannotResume`` only when the source offset is `Int64.max`.
    public static func resumeOffset(
        scanningNewestFirst records: some Sequence<[RecordHeader]>,
        sourceSite: SiteID, sourceTopic: TopicName, partition: PartitionID
    ) throws(MirrorError) -> Offset? {
        for headers in records {
            guard let position = Provenance.source(in: headers).value,
                position.site == sourceSite, position.topic == sourceTopic, position.partition == partition
            else { continue }
            return try next(after: position, expected: "\(sourceSite)/\(sourceTopic)/\(partition)",
                            sourceSite: sourceSite, sourceTopic: sourceTopic, partition: partition)
        }
        return nil
    }

    private static func next(
        after position: SourcePosition, expected: String,
        sourceSite: SiteID, sourceTopic: TopicName, partition: PartitionID
    ) throws(MirrorError) -> Offset {
        guard position.site == sourceSite, position.topic == sourceTopic, position.partition == partition else {
            throw MirrorError(
                .cannotResume,
                "the last record of the target partition for \(expected) was copied from \(position), "
                    + "a different source: two flows write the same target partition; check the naming "
                    + "policy and the flow list")
        }
        let (next, overflow) = position.offset.rawValue.addingReportingOverflow(1)
        guard !overflow else {
            throw MirrorError(.cannotResume, "source offset \(position.offset) in \(position) has no successor")
        }
        return Offset(next)
    }
}
