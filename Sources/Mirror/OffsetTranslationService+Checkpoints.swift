import Foundation
import KafkaClient

extension OffsetTranslationService {
    /// Positions the selected groups at the flow's target from the checkpoints stored at the
    /// target (internal topic, then local file) — works with the source cluster down.
    /// Groups with a checkpoint older than `maxAge` are reported in the result, not committed.
    ///
    /// Each group's checkpointed source offsets are translated again with the flow's current map
    /// (stored, then caught up from the target log), which is at least as far along as the map
    /// the checkpoint was taken with: an offset that was beyond the mirrored data then may be
    /// mapped now. What is still beyond it is the unmirrored tail; the group is committed at the
    /// end of the mirrored data there and the records at risk are in the report. A partition the
    /// group had no commit for at the source has any commit at the target removed.
    ///
    /// - Parameters:
    ///   - dryRun: report what would be done; change nothing.
    ///   - maxAge: the oldest checkpoint used (`nil`: any age).
    ///   - groups: only these groups (still subject to the group selection); `nil`: every group
    ///     with a checkpoint.
    /// - Throws: ``MirrorError`` when neither the checkpoint topic nor the file can be read, or
    ///   the target cluster cannot be asked at all; per-group problems are in the result.
    public func translateFromCheckpoints(
        dryRun: Bool, maxAge: Duration?, groups only: [ConsumerGroupID]? = nil
    ) async throws(MirrorError) -> GroupTranslationResult {
        let flow = configuration.flow
        let (stored, problems) = try await GroupCheckpointStore(configuration: configuration, logger: logger).load()
        var result = GroupTranslationResult(report: TranslationReport(plans: []), dryRun: dryRun, commitFailures: [:], groupErrors: [:])
        result.warnings = problems
        let wanted = only.map(Set.init)
        let checkpoints = stored.values
            .filter { checkpoint in wanted?.contains(checkpoint.group) ?? true }
            .sorted { $0.group < $1.group }
        for group in wanted ?? [] where stored[group] == nil {
            result.groupErrors[group] = "no checkpoint of this group is stored for \(flow); translate it live from "
                + "\(flow.source) when that cluster is back, or position it by hand"
        }

        let map = try await loadCurrentOffsetMap(partitions: checkpoints.flatMap(\.source.keys))
        let admin: KafkaAdmin
        do {
            admin = try KafkaAdmin(configuration: configuration.target.clientConfiguration(clientID: "switchback-translate"), logger: logger)
        } catch {
            throw MirrorError(.kafka, "cannot create an admin client for \(flow.target): \(error)")
        }
        let mirrored = mirroredPartitions(on: .failover, map: map)
        let now = self.now()
        var plans: [GroupTranslationPlan] = []
        for checkpoint in checkpoints where !checkpoint.group.isInternal {
            let group = checkpoint.group
            let age = checkpoint.age(at: now)
            if let maxAge, age > maxAge {
                result.staleCheckpoints[group] = age
                continue
            }
            let active: Bool
            do {
                active = try await hasActiveMembers(group, admin: admin)
            } catch {
                result.groupErrors[group] = "\(error)"
                continue
            }
            result.checkpointAges[group] = age
            var offsets: [TopicPartition: Offset?] = Dictionary(uniqueKeysWithValues: mirrored.map { ($0, nil) })
            for (partition, offset) in checkpoint.source { offsets[partition] = offset }
            let plan = GroupTranslationPlan(
                offsets: GroupOffsets(group: group, committed: offsets), direction: .failover, map: map,
                naming: configuration.naming, topics: configuration.topics, groups: configuration.groups,
                activeMembersAtDestination: active)
            plans.append(plan)
            await execute(plan, dryRun: dryRun, admin: admin, into: &result)
        }
        result.report = TranslationReport(plans: plans)
        return result
    }
}
