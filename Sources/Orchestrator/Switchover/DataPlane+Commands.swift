import Consensus
import Foundation
import KafkaClient
import Mirror
import Sites
import SwitchbackConfiguration

/// Groups a planned switchover positioned at this site while the flow into it was held stopped.
public struct PreparedGroups: Sendable, Hashable {
    public var route: FlowRoute
    /// The epoch committed while they were positioned.
    public var epoch: Epoch
    public var groups: [String]
}

extension DataPlane.State {
    /// The phase to answer: `switching` while a planned move announced it for the epoch held
    /// now and this site is not in a promotion.
    var announcedPhase: DataPlanePhase {
        guard let switching, switching.epoch == phase.epoch else { return phase }
        switch phase {
        case .serving, .following: return .switching(switching.epoch, step: switching.step)
        case .promoting, .switching: return phase
        }
    }
}

/// The parts of a runbook that this site's agent does (see ``DataPlaneCommand``): what it
/// announces, holding the flow into it stopped, its lag, and positioning its groups.
extension DataPlane {
    /// Does `command` and answers; every failure is a reply carrying its ``StepActionError``.
    public func perform(_ command: DataPlaneCommand) async -> DataPlaneReply {
        let started = ContinuousClock.now
        let reply: DataPlaneReply
        do {
            reply = try await execute(command)
        } catch let error as StepActionError {
            reply = DataPlaneReply(error: error)
        } catch is CancellationError {
            reply = DataPlaneReply(error: StepActionError(.timedOut, "\(command) was cancelled at \(ownSiteName)", retriable: true))
        } catch {
            reply = DataPlaneReply(error: StepActionError(.failed, "\(command) failed at \(ownSiteName): \(error)", retriable: true))
        }
        // A runbook step waits on these; one that is slow without draining is worth a line.
        let took = ContinuousClock.now - started
        if took > .seconds(2), command.drainWithin == nil {
            logger.notice("slow data-plane command", metadata: ["command": "\(command)", "seconds": "\(took)", "reply": "\(reply.summary)"])
        }
        return reply
    }

    private var ownSiteName: String { environment.ownSite?.rawValue ?? "this agent" }

    private func execute(_ command: DataPlaneCommand) async throws -> DataPlaneReply {
        let epoch = Epoch(command.epoch)
        let committed = environment.committed()
        if epoch < committed.epoch {
            throw StepActionError(.staleEpoch, "\(command) acts for \(epoch), but \(ownSiteName) holds \(committed.epoch) committed", retriable: false)
        }
        if epoch > committed.epoch {
            throw StepActionError(
                .preconditionFailed, "\(command) acts for \(epoch); \(ownSiteName) has not adopted it yet (it holds \(committed.epoch))",
                retriable: true)
        }
        switch command.verb {
        case .announce: return try await announce(command.state, epoch: epoch, committed: committed)
        case .flowLag: return try await lag(try incoming(command))
        case .stopFlow: return try await stop(try incoming(command), epoch: epoch, drainWithin: command.drainWithin)
        case .pauseFlow: return try await stop(try incoming(command), epoch: epoch, drainWithin: nil)
        case .startFlow: return try await start(try incoming(command), committed: committed)
        case .translateGroups:
            return try await translate(
                try incoming(command), epoch: epoch, source: command.source ?? .live, dryRun: command.dryRun ?? false, maxAge: command.maxAge)
        case .flows:
            var outputs: [String: String] = [:]
            for report in supervisor.reports() {
                outputs["\(report.from)→\(report.to)"] = "\(report.phase) lag \(report.lag.map(String.init) ?? "unknown")"
                    + (report.reverseOf.map { " reverse of \($0)" } ?? "")
                for (group, age) in report.checkpointAges { outputs["checkpoint.\(group)"] = String(format: "%.1f", age) }
            }
            return DataPlaneReply(summary: "\(outputs.filter { !$0.key.hasPrefix("checkpoint.") }.count) flow(s) into \(ownSiteName)", outputs: outputs)
        }
    }

    /// The command's flow, which must run into this site.
    private func incoming(_ command: DataPlaneCommand) throws(StepActionError) -> FlowRoute {
        let route = try command.route()
        guard route.to == environment.ownSite else {
            throw .parameter("to", "names \(route.to), but the flow \(route) runs at \(route.to)'s agent, not at \(ownSiteName)")
        }
        return route
    }

    // MARK: Announce

    private func announce(_ wanted: SidecarState?, epoch: Epoch, committed: SiteConfig) async throws -> DataPlaneReply {
        switch wanted {
        case .switching:
            state.withLock { $0.switching = (epoch, "switching") }
            environment.onChange()
            return DataPlaneReply(summary: "\(ownSiteName) answers switching for \(epoch): applications stop producing", outputs: ["state": "switching"])
        case .serving:
            // The move is over (done, or backed out): flows held for it are released, and the
            // follow loop starts them again within a round.
            state.withLock { state in
                if let mark = state.switching, mark.epoch <= epoch { state.switching = nil }
                state.held = state.held.filter { $0.value > epoch }
            }
            environment.onChange()
            if committed.activeSite == environment.ownSite {
                var waited = 0
                while !phase.isServing(committed.epoch) {
                    try Task.checkCancellation()
                    // Bounded here too: the caller may be another agent whose request went away.
                    waited += 1
                    guard waited < 1200 else {
                        throw StepActionError(.preconditionFailed, "\(ownSiteName) is still \(phase) after 60 s", retriable: true)
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return DataPlaneReply(summary: "\(ownSiteName) serves in \(epoch)", outputs: ["state": "serving"])
            }
            return DataPlaneReply(summary: "\(ownSiteName) no longer answers switching; \(committed.activeSite) is active in \(epoch)", outputs: ["state": "\(phase)"])
        case .promoting:
            guard committed.activeSite == environment.ownSite else {
                throw StepActionError(.preconditionFailed, "\(ownSiteName) is not the active site in \(epoch) (\(committed.activeSite) is)", retriable: true)
            }
            return DataPlaneReply(summary: "\(ownSiteName) is the active site in \(epoch): \(phase)", outputs: ["state": "\(phase)"])
        case .fenced, nil:
            throw StepActionError.parameter("state", "is \(wanted?.rawValue ?? "missing"); announce switching, serving or promoting")
        }
    }

    // MARK: Flows

    /// The flow's lag against the source's log ends read now (not the lag gauge's last read),
    /// over every partition the flow selects at the source: one the flow has not positioned
    /// yet (a topic created since its last provisioning) counts from offset 0, so a selection
    /// that matches nothing at the source is caught up rather than waited on forever.
    private func lag(_ route: FlowRoute) async throws -> DataPlaneReply {
        guard let status = supervisor.status(route) else {
            let held = state.withLock { $0.held[route] != nil }
            throw StepActionError(
                .preconditionFailed, "the flow \(route) does not run at \(ownSiteName)\(held ? " (a runbook holds it stopped)" : "")", retriable: true)
        }
        switch status.phase {
        case .running, .draining, .paused: break
        default:
            throw StepActionError(.preconditionFailed, "the flow \(route) has not read its source yet (\(status.phase))", retriable: true)
        }
        let configuration = try environment.flowConfiguration(route)
        let source = configuration.source
        let admin = try KafkaAdmin(
            configuration: KafkaClientConfiguration(bootstrapServers: source.bootstrapServers, clientID: "switchback-lag", properties: source.properties),
            logger: logger)
        let topics: [KafkaClient.TopicName: TopicMetadata]
        do {
            topics = try await admin.listTopics()
        } catch {
            throw StepActionError(.failed, "cannot list the topics of \(route.from): \(error)", retriable: true)
        }
        var selected: [MirrorTopicPartition] = []
        for (name, metadata) in topics where metadata.error == nil {
            guard let topic = MirrorTopicName(rawValue: name.rawValue), configuration.copies(topic) != nil else { continue }
            for partition in metadata.partitions {
                if let id = MirrorPartitionID(rawValue: partition.partition.rawValue) { selected.append(MirrorTopicPartition(topic, id)) }
            }
        }
        var lag: Int64 = 0
        var behind: [String] = []
        for partition in selected.sorted() {
            let high: Int64
            do {
                let kafkaPartition = KafkaClient.TopicPartition(KafkaClient.TopicName(partition.topic.rawValue), Partition(partition.partition.rawValue))
                high = try await admin.watermarks(of: kafkaPartition).high.rawValue
            } catch {
                throw StepActionError(.failed, "cannot read the end of \(partition) at \(route.from): \(error)", retriable: true)
            }
            let missing = max(0, high - (status.positions[partition]?.rawValue ?? 0))
            if missing > 0 { behind.append("\(partition) \(missing)") }
            lag += missing
        }
        // A selected partition the flow has no position for is one it has not found yet.
        if selected.contains(where: { status.positions[$0] == nil }) { supervisor.refreshTopics(route) }
        let summary =
            selected.isEmpty
            ? "the flow \(route) selects no partition at \(route.from): nothing to copy"
            : lag == 0 ? "the flow \(route) has copied everything \(route.from) holds" : "the flow \(route) is \(lag) record(s) behind: \(behind.joined(separator: ", "))"
        return DataPlaneReply(summary: summary, outputs: ["lag": String(lag), "partitions": String(selected.count)])
    }

    /// A move back (`route` reverses an earlier flow `to→from`) under `identity`: at `from` the
    /// groups also consumed the copies that earlier flow wrote into the head of `orders`, and
    /// their positions there belong to the originals at `to`. The earlier flow's map translates
    /// them back exactly; positions past its copies are left to `route`'s own translation, done
    /// before. Under `prefix` the copies have their own names and ``HomePositions`` brings those
    /// positions home (recovered copies included, which no map holds), so this is not done
    /// twice. `nil` when it does not apply.
    private func translateBackAcrossTheOldDirection(_ route: FlowRoute, dryRun: Bool) async throws(MirrorError) -> GroupTranslationResult? {
        guard let old = try? environment.flowConfiguration(FlowRoute(from: route.to, to: route.from)), old.naming.policy == .identity
        else { return nil }
        return try await OffsetTranslationService(configuration: old, logger: logger).translate(direction: .failback, dryRun: dryRun, exactOnly: true)
    }

    /// Stops the flow and holds it stopped for `epoch`; drains first when `drainWithin` is set
    /// and fails unless everything was copied. Done again after it succeeded, it succeeds.
    private func stop(_ route: FlowRoute, epoch: Epoch, drainWithin: Duration?) async throws -> DataPlaneReply {
        let running = supervisor.routes.contains(route)
        let drainedBefore = state.withLock { state -> Bool in
            defer { state.held[route] = epoch }
            return state.drained[route] == epoch
        }
        if !running {
            if drainWithin == nil || drainedBefore {
                return DataPlaneReply(summary: "the flow \(route) is stopped and held for \(epoch)", outputs: ["drained": String(drainedBefore), "unmirrored": "0"])
            }
            state.withLock { _ = $0.held.removeValue(forKey: route) }
            throw StepActionError(.preconditionFailed, "the flow \(route) does not run at \(ownSiteName), so it cannot drain", retriable: true)
        }
        let drained = await supervisor.stop(route, drainWithin: drainWithin)
        environment.audit("flowHeld", epoch, "flow \(route) stopped by a runbook\(drainWithin == nil ? "" : drained ? " after draining" : " without draining everything") and held for \(epoch)")
        if drainWithin != nil && !drained {
            // Released so the follow loop starts it again and a retry can drain.
            state.withLock { _ = $0.held.removeValue(forKey: route) }
            throw StepActionError(.failed, "the flow \(route) did not drain within \(drainWithin!)", retriable: true)
        }
        if drained { state.withLock { $0.drained[route] = epoch } }
        return DataPlaneReply(summary: "the flow \(route) is stopped\(drained ? " after copying everything" : "") and held for \(epoch)", outputs: ["drained": String(drained), "unmirrored": "0"])
    }

    /// Releases the hold on the flow and waits until the follow loop runs it.
    private func start(_ route: FlowRoute, committed: SiteConfig) async throws -> DataPlaneReply {
        guard supervisor.plan.routes(for: committed).contains(route) else {
            throw StepActionError(
                .preconditionFailed, "the flow \(route) is not one \(ownSiteName) runs in \(committed) (mirror.flows decides)", retriable: true)
        }
        state.withLock { state in
            state.held[route] = nil
            state.drained[route] = nil
        }
        var waited = 0
        while !supervisor.routes.contains(route) {
            try Task.checkCancellation()
            waited += 1
            guard waited < 200 else {
                throw StepActionError(.preconditionFailed, "the flow \(route) has not started at \(ownSiteName) within 10 s", retriable: true)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let report = supervisor.reports().first { $0.from == route.from.rawValue && $0.to == route.to.rawValue }
        return DataPlaneReply(
            summary: "the flow \(route) runs at \(ownSiteName)" + (report?.reverseOf.map { " (reverse of \($0))" } ?? ""),
            outputs: ["phase": report?.phase ?? "starting", "reverse_of": report?.reverseOf ?? ""])
    }

    // MARK: Groups

    private func translate(_ route: FlowRoute, epoch: Epoch, source: PositionSource, dryRun: Bool, maxAge: Duration?) async throws -> DataPlaneReply {
        if source == .live && !dryRun {
            let drained = state.withLock { $0.drained[route] == epoch && $0.held[route] == epoch }
            guard drained, !supervisor.routes.contains(route) else {
                throw StepActionError(
                    .preconditionFailed, "the flow \(route) must be stopped after draining (stop-flow) before groups are translated from live offsets",
                    retriable: false)
            }
        }
        let service = OffsetTranslationService(configuration: try environment.flowConfiguration(route), logger: logger)
        var result: GroupTranslationResult
        do {
            switch source {
            // Live is the planned move: producers are fenced and the flow drained, so only the
            // groups' own last commits can still move their offsets; wait for those.
            case .live:
                result = try await service.translate(direction: .failover, dryRun: dryRun, settling: dryRun ? nil : GroupSettling())
                if let back = try await translateBackAcrossTheOldDirection(route, dryRun: dryRun) { result.merge(back) }
            case .checkpoints: result = try await service.translateFromCheckpoints(dryRun: dryRun, maxAge: maxAge)
            }
        } catch {
            throw StepActionError(.failed, "translating the groups of \(route) from \(source) offsets failed: \(error)", retriable: error.isRetriable)
        }
        var problems = result.groupErrors.map { "\($0.key): \($0.value)" }
        for (group, failures) in result.commitFailures { problems.append("\(group): \(failures.values.sorted().joined(separator: "; "))") }
        guard problems.isEmpty else {
            throw StepActionError(.failed, "groups not positioned at \(route.to): \(problems.sorted().joined(separator: ", "))", retriable: true)
        }
        // Live, the groups' positions on the copies of the destination's own topics come home
        // too (a failback: what they read there after the destination failed).
        var home: [HomePositions.Move] = []
        if source == .live, let homeFlow = try? environment.flowConfiguration(FlowRoute(from: route.to, to: route.from)) {
            do {
                home = try await HomePositions(homeFlow: homeFlow, logger: logger).bringHome(dryRun: dryRun)
            } catch {
                throw StepActionError(
                    .failed, "bringing home the groups' positions on \(route.from)'s copies of \(route.to)'s topics failed: \(error)",
                    retriable: error.isRetriable)
            }
        }
        let groups = Set(result.report.plans.filter { !$0.commits.isEmpty }.map(\.group.rawValue) + home.map(\.group)).sorted()
        let homeLine = home.isEmpty ? "" : "\n\(dryRun ? "would bring" : "brought") home from copies at \(route.from): "
            + home.map(\.description).joined(separator: ", ")
        if !dryRun && source == .live {
            state.withLock { $0.prepared = PreparedGroups(route: route, epoch: epoch, groups: groups) }
            environment.audit("groupsPositioned", epoch, "groups positioned at \(route.to) from live offsets of \(route.from): \(result.description)\(homeLine)")
        }
        let maxAge = result.checkpointAges.values.max().map { String(format: "%.1f", Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
        return DataPlaneReply(
            summary: "\(dryRun ? "would position" : "positioned") \(groups.count) group(s) at \(route.to) from \(source) offsets: \(result.description)\(homeLine)",
            outputs: ["groups": groups.joined(separator: ","), "count": String(groups.count), "stale": String(result.staleCheckpoints.count),
                      "max_checkpoint_age": maxAge ?? "0"])
    }
}
