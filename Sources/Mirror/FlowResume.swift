import Sites

/// Where a restarted flow resumes one source partition, from what the target already holds.
///
/// Pure: the flow reads the target records after the offset map's last mapped target offset
/// (``OffsetMap/catchUpStart(for:)``) and asks this. Under the prefix policy the flow is the
/// only writer of the target partition, so its last record decides (``ResumePosition``); under
/// identity the target is shared with local producers, so the newest copy among the scanned
/// records decides. With nothing scanned, the map (already caught up) decides: right after its
/// last copy, or after its accounted end when records after that were deliberately skipped.
enum FlowResume {
    /// The next source offset to copy, or `nil` when nothing of this partition was copied yet.
    /// - Throws: ``MirrorError/Code/cannotResume`` when the last target record was not written
    ///   by this flow (prefix policy) or names another source.
    static func resumeOffset(
        policy: NamingPolicy, scannedTargetHeaders scanned: [[RecordHeader]], map: PartitionOffsetMap,
        sourceSite: SiteID, sourceTopic: TopicName, partition: PartitionID
    ) throws(MirrorError) -> Offset? {
        var fromRecords: Offset?
        if let last = scanned.last {
            switch policy {
            case .prefix:
                fromRecords = try ResumePosition.resumeOffset(
                    afterLastTargetRecord: last, sourceSite: sourceSite, sourceTopic: sourceTopic, partition: partition)
            case .identity:
                fromRecords = try ResumePosition.resumeOffset(
                    scanningNewestFirst: scanned.reversed(), sourceSite: sourceSite, sourceTopic: sourceTopic,
                    partition: partition)
            }
        }
        let fromMap = map.ranges.last?.sourceEnd
        let accounted = map.accountedEnd > 0 ? map.accountedEnd : nil
        return [fromRecords, fromMap, accounted].compactMap { $0 }.max()
    }
}
