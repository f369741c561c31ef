import KafkaClient

/// How a live translation in a planned switchover waits for a group's committed offsets to be
/// final before it reads them.
///
/// Why: applications stop on `switching`, but a consumer may still be committing a batch it
/// delivered just before; offsets read before that commit lands put the group behind what it
/// processed, and it would read those records again at the new site. Producers are fenced and
/// the flow drained by then, so a group's offsets can only still move by its own consumers.
///
/// A group is settled when the first of these holds:
/// - it has no members at the origin (its consumers closed or left): nothing can commit;
/// - every partition it has a commit for is committed at the partition's end: there is
///   nothing left it could have delivered without committing;
/// - its committed offsets have not changed for `quiet` (consumers paused on `switching`
///   and committed what they processed). A consumer that delivers without committing for
///   longer than `quiet` is not distinguishable from a paused one; choose `quiet` above the
///   applications' commit interval.
///
/// After `within` the translation goes on with the offsets it has and says so in a warning.
public struct GroupSettling: Sendable, Hashable {
    public var quiet: Duration
    public var within: Duration
    public var poll: Duration

    public init(quiet: Duration = .seconds(2), within: Duration = .seconds(20), poll: Duration = .milliseconds(100)) {
        self.quiet = quiet
        self.within = within
        self.poll = poll
    }

    /// Why a group counted as settled (for the translation's report).
    public enum Outcome: Sendable, Hashable, CustomStringConvertible {
        case noMembers
        case consumedToTheEnd
        case quiet(Duration)
        case timedOut(Duration)

        public var description: String {
            switch self {
            case .noMembers: "no consumer in the group"
            case .consumedToTheEnd: "committed at the end of every partition it consumes"
            case .quiet(let quiet): "its commits unchanged for \(quiet)"
            case .timedOut(let within): "still moving after \(within); translated with the offsets read last"
            }
        }
    }
}

extension OffsetTranslationService {
    /// The group's committed offsets at the origin once it has settled (see ``GroupSettling``).
    func settledCommittedOffsets(
        _ group: ConsumerGroupID, partitions: [KafkaClient.TopicPartition], admin: KafkaAdmin, settling: GroupSettling,
        clock: ContinuousClock = ContinuousClock()
    ) async throws -> (offsets: [KafkaClient.TopicPartition: KafkaClient.Offset], outcome: GroupSettling.Outcome) {
        let started = clock.now
        var last = try await admin.committedOffsets(group: group.kafka, partitions: partitions)
        var unchangedSince = started
        var ends: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
        while true {
            if !(try await hasActiveMembers(group, admin: admin)) {
                return (try await admin.committedOffsets(group: group.kafka, partitions: partitions), .noMembers)
            }
            // A group with no commit at all may have delivered without committing: not at its end.
            var atEnd = !last.isEmpty
            for (partition, offset) in last {
                let end: KafkaClient.Offset
                if let known = ends[partition] {
                    end = known
                } else {
                    // Producers are fenced and the flow drained: an end read once stays the end.
                    end = try await admin.watermarks(of: partition).high
                    ends[partition] = end
                }
                if offset < end { atEnd = false }
            }
            if atEnd { return (last, .consumedToTheEnd) }
            let now = clock.now
            if now - unchangedSince >= settling.quiet { return (last, .quiet(settling.quiet)) }
            if now - started >= settling.within { return (last, .timedOut(settling.within)) }
            try await clock.sleep(for: settling.poll)
            let next = try await admin.committedOffsets(group: group.kafka, partitions: partitions)
            if next != last {
                last = next
                unchangedSince = clock.now
            }
        }
    }
}
