import Sites

/// Figures for one offset-map benchmark run.
public struct OffsetMapBenchmarkResult: Sendable, CustomStringConvertible {
    /// Delivery reports recorded.
    public var records: Int
    /// A source gap (one offset, like a transaction marker) after every this many records.
    public var gapEvery: Int
    /// Ranges in the finished map.
    public var rangeCount: Int
    /// Bytes of the compacted local cache file.
    public var cacheFileBytes: Int
    /// Records and total key+value bytes on the internal offset-map topic for the whole map.
    public var topicRecords: Int
    public var topicBytes: Int
    /// Time to record every delivery report (through ``OffsetMap/record(_:sourceOffset:targetOffset:)``).
    public var buildTime: Duration
    /// Source→target translations performed, and their total time.
    public var lookups: Int
    public var lookupTime: Duration

    public var description: String {
        """
        offset map: \(records) records, a source gap every \(gapEvery)
          ranges:            \(rangeCount)
          cache file:        \(cacheFileBytes) bytes (\(rangeCount > 0 ? cacheFileBytes / rangeCount : 0) per range)
          offset-map topic:  \(topicRecords) records, \(topicBytes) bytes key+value
          build:             \(buildTime) (\(perSecond(records, buildTime)) records/s)
          lookups:           \(lookups) in \(lookupTime) (\(perSecond(lookups, lookupTime)) lookups/s)
        """
    }

    private func perSecond(_ count: Int, _ duration: Duration) -> Int {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds > 0 ? Int(Double(count) / seconds) : 0
    }
}

/// A benchmark of the offset map, for the benchmark executable: builds the map of one partition
/// from `records` delivery reports with a one-offset source gap every `gapEvery` records (a
/// transactional producer's commit markers), then serializes it both ways and times lookups.
///
/// Prints nothing and asserts nothing about time; callers report the figures.
public func runOffsetMapBenchmark(
    records: Int = 10_000_000, gapEvery: Int = 1_000, lookups: Int = 1_000_000,
    clock: some Clock<Duration> = ContinuousClock()
) throws(MirrorError) -> OffsetMapBenchmarkResult {
    let flow = FlowID(from: "dc-a", to: "dc-b")
    let partition = TopicPartition(try TopicName(validating: "orders"), 0)
    var map = OffsetMap(flow: flow)
    let gap = max(1, gapEvery)

    var failure: MirrorError?
    let buildTime = clock.measure {
        var source: Int64 = 0
        for index in 0..<records {
            do throws(MirrorError) {
                try map.record(partition, sourceOffset: Offset(source), targetOffset: Offset(Int64(index)))
            } catch {
                failure = error
                return
            }
            source += (index + 1) % gap == 0 ? 2 : 1
        }
    }
    if let failure { throw failure }

    let updates = map.takeUpdates()
    let topicBytes = updates.reduce(0) { total, update in
        let record = OffsetMapRecordCodec.encode(update)
        return total + record.key.count + (record.value?.count ?? 0)
    }
    let cacheFileBytes = OffsetMapFileFormat.snapshot(of: map).count

    // Deterministic positions spread over the whole source range (a 64-bit LCG).
    let sourceEnd = map[partition].accountedEnd.rawValue
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    var checksum: Int64 = 0
    let partitionMap = map[partition]
    let lookupTime = clock.measure {
        for _ in 0..<lookups {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let position = Int64(state >> 1) % max(1, sourceEnd)
            checksum &+= partitionMap.translate(sourceOffset: Offset(position)).offsetToCommit?.rawValue ?? -1
        }
    }
    // Keeps the lookups from being optimised away; a negative sum is impossible for a full map.
    if checksum < 0 && lookups > 0 && records > 0 {
        throw MirrorError(.offsetMapConflict, "benchmark lookups found unmapped positions inside the map")
    }

    return OffsetMapBenchmarkResult(
        records: records, gapEvery: gapEvery, rangeCount: map.rangeCount, cacheFileBytes: cacheFileBytes,
        topicRecords: updates.count, topicBytes: topicBytes, buildTime: buildTime, lookups: lookups, lookupTime: lookupTime)
}
