import Sites

/// Which way offsets are translated across a flow.
public enum TranslationDirection: String, Hashable, Codable, Sendable {
    /// Committed offsets on the flow's source cluster become commits on its target cluster.
    case failover
    /// Committed offsets on the flow's target cluster become commits on its source cluster.
    case failback
}

/// A consumer group's committed offsets on the cluster translated *from*.
public struct GroupOffsets: Hashable, Sendable {
    public var group: ConsumerGroupID
    /// Per topic-partition as named on that cluster; `nil` (or a negative offset, Kafka's -1)
    /// means the group has no committed offset there.
    public var committed: [TopicPartition: Offset?]

    public init(group: ConsumerGroupID, committed: [TopicPartition: Offset?]) {
        self.group = group
        self.committed = committed
    }
}

/// What to do for one partition of a group, and why.
public struct GroupTranslationEntry: Hashable, Sendable {
    /// Why a partition's offset is not translated.
    public enum SkipReason: Hashable, Sendable, CustomStringConvertible {
        /// The group is not selected by `mirror.groups`.
        case groupNotSelected(SelectionDecision)
        /// The group has active members on the cluster to commit to; committing under them would
        /// be overwritten or fight their positions. Stop them first.
        case groupActiveAtDestination
        /// The topic is not selected by `mirror.topics`.
        case topicNotSelected(SelectionDecision)
        /// The naming policy never mirrors this topic across this flow.
        case topicNotMirrored(TopicNotMirroredReason)
        /// Failback: no topic of the source is mirrored into this target topic by this flow.
        case notAMirrorTopic
        /// The group has no committed offset for this partition.
        case noCommittedOffset
        /// Nothing of this partition has been mirrored.
        case partitionNotMirrored
        /// The group is past the mirrored data: these records are at risk.
        case beyondMirrored(lastCopied: Offset, recordsAtRisk: Int64)
        /// The committed offset is before the first mapped offset (mirroring started later, or pruned).
        case beforeMapped(firstMapped: Offset)
        /// Translating back across the old direction of a reversed flow: the group is past what
        /// that direction copied, so the newer direction's translation positions it.
        case pastTheOldDirection
        /// Translating back across the old direction: the group's commit at the destination is
        /// further on; it read those records there before the move (and they were never copied).
        case destinationAhead(committed: Offset)

        public var description: String {
            switch self {
            case .groupNotSelected(let decision): "group not selected (\(decision))"
            case .groupActiveAtDestination: "group has active members on the destination cluster; stop them first"
            case .topicNotSelected(let decision): "topic not selected (\(decision))"
            case .topicNotMirrored(let reason): "topic not mirrored: \(reason)"
            case .notAMirrorTopic: "not a topic this flow mirrors into"
            case .noCommittedOffset: "no committed offset"
            case .partitionNotMirrored: "partition not mirrored yet"
            case .beyondMirrored(let lastCopied, let atRisk):
                "offset beyond mirrored data (last copied \(lastCopied); data at risk: \(atRisk) record(s))"
            case .beforeMapped(let first): "offset before the first mapped offset \(first); position unknown"
            case .pastTheOldDirection: "past what the old direction copied; the newer direction positions it"
            case .destinationAhead(let committed): "the group's commit at the destination, \(committed), is further on; kept"
            }
        }
    }

    /// The action for one partition.
    public enum Action: Hashable, Sendable {
        /// Commit `offset` for `partition` on the destination cluster.
        case commit(partition: TopicPartition, offset: Offset)
        /// Leave this partition alone, for this reason.
        case skip(SkipReason)
    }

    /// The partition on the cluster translated from.
    public var partition: TopicPartition
    /// The partition on the cluster committed to (absent when the topic is not one this flow
    /// mirrors, or the group is skipped as a whole).
    public var destination: TopicPartition?
    /// The group's committed offset there, if any.
    public var committed: Offset?
    /// What translation said (absent when skipped before translating).
    public var translation: OffsetTranslation?
    public var action: Action
}

/// The translation plan for one consumer group across one flow: per partition, commit an exact
/// offset on the destination or skip with a reason. Pure: computing it changes nothing; the
/// flow executes ``commits``, and `switchback offsets translate --dry-run` prints ``description``.
public struct GroupTranslationPlan: Hashable, Sendable, CustomStringConvertible {
    public let group: ConsumerGroupID
    public let flow: FlowID
    public let direction: TranslationDirection
    /// One entry per partition the group has on the cluster translated from, sorted.
    public let entries: [GroupTranslationEntry]

    /// Builds the plan.
    ///
    /// - Parameters:
    ///   - offsets: the group's committed offsets on the cluster translated from (the flow's
    ///     source for `.failover`, its target for `.failback`), with topics as named there.
    ///   - direction: which way to translate.
    ///   - map: the flow's offset map.
    ///   - naming: the naming policy and sites.
    ///   - topics: the flow's topic selection (applied to source topic names).
    ///   - groups: the group selection.
    ///   - activeMembersAtDestination: whether the group has members on the cluster committed to.
    public init(
        offsets: GroupOffsets, direction: TranslationDirection, map: OffsetMap, naming: TopicNaming,
        topics: TopicSelection, groups: GroupSelection, activeMembersAtDestination: Bool
    ) {
        group = offsets.group
        flow = map.flow
        self.direction = direction
        let groupDecision = groups.decision(for: offsets.group)
        entries = offsets.committed.keys.sorted().map { partition in
            let raw = offsets.committed[partition] ?? nil
            let committed = raw.flatMap { $0.rawValue >= 0 ? $0 : nil }
            var destination: TopicPartition?
            func skip(_ reason: GroupTranslationEntry.SkipReason, _ translation: OffsetTranslation? = nil) -> GroupTranslationEntry {
                GroupTranslationEntry(partition: partition, destination: destination, committed: committed,
                                      translation: translation, action: .skip(reason))
            }
            if !groupDecision.isSelected { return skip(.groupNotSelected(groupDecision)) }
            if activeMembersAtDestination { return skip(.groupActiveAtDestination) }

            // The source topic-partition (the map's key) and the destination topic-partition.
            let sourcePartition: TopicPartition
            switch direction {
            case .failover:
                sourcePartition = partition
                switch naming.decision(for: partition.topic, from: map.flow.source, to: map.flow.target) {
                case .notMirrored(let reason):
                    if reason == .internalTopic { return skip(.topicNotSelected(.internalName)) }
                    return skip(.topicNotMirrored(reason))
                case .mirror(let target):
                    destination = TopicPartition(target, partition.partition)
                }
            case .failback:
                guard let source = naming.sourceTopic(forTarget: partition.topic, from: map.flow.source, to: map.flow.target) else {
                    return skip(partition.topic.isInternal ? .topicNotSelected(.internalName) : .notAMirrorTopic)
                }
                sourcePartition = TopicPartition(source, partition.partition)
                destination = sourcePartition
            }
            let topicDecision = topics.decision(for: sourcePartition.topic)
            if !topicDecision.isSelected {
                destination = nil
                return skip(.topicNotSelected(topicDecision))
            }
            guard let committed else { return skip(.noCommittedOffset) }
            guard let destination else { return skip(.notAMirrorTopic) }

            let translation = direction == .failover
                ? map.translate(sourcePartition, sourceOffset: committed)
                : map.translate(sourcePartition, targetOffset: committed)
            func commit(_ offset: Offset) -> GroupTranslationEntry {
                GroupTranslationEntry(partition: partition, destination: destination, committed: committed,
                                      translation: translation, action: .commit(partition: destination, offset: offset))
            }
            switch translation {
            case .mapped(let offset), .caughtUp(let offset):
                return commit(offset)
            case .beyondMirrored:
                // The group consumed records the destination does not have (the unmirrored
                // tail): its position there is the end of the mirrored data, so it reads what
                // the destination takes next — never an older commit left from an earlier move.
                let end = map[sourcePartition]
                let endTranslation = direction == .failover
                    ? end.translate(sourceOffset: end.accountedEnd)
                    : end.translate(targetOffset: end.ranges.last?.targetEnd ?? 0)
                guard let offset = endTranslation.offsetToCommit else {
                    if case .beyondMirrored(let lastCopied, let atRisk) = translation {
                        return skip(.beyondMirrored(lastCopied: lastCopied, recordsAtRisk: atRisk), translation)
                    }
                    return skip(.partitionNotMirrored, translation)
                }
                return commit(offset)
            case .beforeMapped(let first):
                return skip(.beforeMapped(firstMapped: first), translation)
            case .noMirroredRecords:
                return skip(.partitionNotMirrored, translation)
            }
        }
    }

    private init(group: ConsumerGroupID, flow: FlowID, direction: TranslationDirection, entries: [GroupTranslationEntry]) {
        self.group = group
        self.flow = flow
        self.direction = direction
        self.entries = entries
    }

    /// This plan with only its exact commits (the translation found the offset in the map, or
    /// the group is caught up) that move the group forward at the destination; every other
    /// commit becomes a skip, and nothing is cleared.
    ///
    /// For the old direction of a reversed flow in a planned move back: a group position inside
    /// what the old direction copied is translated exactly through its map; one past it (records
    /// the returned site never had from that direction) belongs to the newer direction's map.
    /// A commit at the destination that is further on stays: the group read those records there
    /// before it moved (after an unplanned failover, records that were never copied).
    /// - Parameter destinationCommits: the group's committed offsets at the destination.
    public func exactCommitsOnly(keeping destinationCommits: [TopicPartition: Offset] = [:]) -> GroupTranslationPlan {
        let kept = entries.map { entry -> GroupTranslationEntry in
            var entry = entry
            switch (entry.action, entry.translation) {
            case (.commit(let partition, let offset), .mapped?), (.commit(let partition, let offset), .caughtUp?):
                if let existing = destinationCommits[partition], existing > offset { entry.action = .skip(.destinationAhead(committed: existing)) }
            case (.commit, _): entry.action = .skip(.pastTheOldDirection)
            case (.skip(.noCommittedOffset), _): entry.action = .skip(.pastTheOldDirection)
            case (.skip, _): break
            }
            return entry
        }
        return GroupTranslationPlan(group: group, flow: flow, direction: direction, entries: kept)
    }

    /// The offsets to commit on the destination cluster, by destination topic-partition.
    public var commits: [TopicPartition: Offset] {
        var commits: [TopicPartition: Offset] = [:]
        for entry in entries {
            if case .commit(let partition, let offset) = entry.action { commits[partition] = offset }
        }
        return commits
    }

    /// Destination partitions whose committed offset must be removed so the destination matches
    /// the origin: the group has no commit for the partition at the origin (never consumed it,
    /// or its offsets were deleted or expired there), so it must start it from
    /// `auto.offset.reset` at the destination too, not from a commit left by an earlier move.
    ///
    /// A partition of which nothing is mirrored keeps its destination commit: under the identity
    /// policy that commit may point into the destination's own records, which this flow's map
    /// does not describe.
    public var clears: [TopicPartition] {
        entries.compactMap { entry in
            if case .skip(.noCommittedOffset) = entry.action { return entry.destination }
            return nil
        }
    }

    /// Records at risk summed over partitions whose committed offset is beyond the mirrored data.
    public var recordsAtRisk: Int64 {
        entries.reduce(0) { total, entry in
            if case .beyondMirrored(_, let atRisk) = entry.translation { return total &+ atRisk }
            return total
        }
    }

    /// The cluster committed to.
    public var destinationSite: SiteID { direction == .failover ? flow.target : flow.source }
    /// The cluster translated from.
    public var originSite: SiteID { direction == .failover ? flow.source : flow.target }

    /// A report for operators, one line per partition.
    public var description: String {
        let commitCount = entries.filter { if case .commit = $0.action { true } else { false } }.count
        var summary = "group \(group): \(direction) \(originSite) → \(destinationSite): "
            + "\(commitCount) to commit, \(entries.count - commitCount) skipped"
        if recordsAtRisk > 0 { summary += " — DATA AT RISK: \(recordsAtRisk) record(s)" }
        let width = entries.map { $0.partition.description.count }.max() ?? 0
        let lines = entries.map { entry -> String in
            let name = entry.partition.description.padding(toLength: width)
            let committed = entry.committed.map { "committed \($0)" } ?? "no commit"
            switch entry.action {
            case .commit(let partition, let offset):
                let note = switch entry.translation {
                case .caughtUp: " (caught up)"
                case .beyondMirrored(let lastCopied, let atRisk):
                    " (end of the mirrored data, last copied \(lastCopied); DATA AT RISK: \(atRisk) record(s))"
                default: ""
                }
                return "  \(name)  \(committed) → commit \(partition) at \(offset)\(note)"
            case .skip(let reason):
                let clear = clears.contains { $0 == entry.destination } ? " (any commit there is removed)" : ""
                return "  \(name)  \(committed) → skip: \(reason)\(clear)"
            }
        }
        return ([summary] + lines).joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
