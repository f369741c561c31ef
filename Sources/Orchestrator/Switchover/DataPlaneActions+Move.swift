import Consensus
import Sites

/// `promote`, `announce` and `unfence-site`: the steps that move the active site and say so.
extension DataPlaneActions {
    /// `promote{site}`: commits `site` as active in a new epoch through the election (a planned
    /// switchover: vote, commit, the old lease waited out). Its outcome carries the new epoch,
    /// so the later steps act for it. Run again after the commit, it finds it done.
    var promote: any StepAction {
        DataPlaneStepAction("promote", [StepParameterSpec("site", required: true, "the site to make active")]) { context in
            let site = try site(context.parameters, "site")
            let committed = control.committed()
            let reading = control.probe(site)
            return StepPlan(
                summary: "commit \(site) as active in a new epoch (now \(committed))",
                checks: [
                    .init("\(site) not active yet", satisfied: committed.activeSite != site, detail: "\(committed.activeSite) is active in \(committed.epoch)"),
                    .init("\(site) reachable", satisfied: reading?.healthy ?? false, detail: reading?.detail ?? "no probe yet"),
                ],
                changes: ["new epoch after \(committed.epoch) with \(site) active; its agent positions nothing again (groups translated by this run)"])
        } run: { context in
            let site = try site(context.parameters, "site")
            if let done = try moved(to: site, after: context.epoch) { return done }
            let decisions = await control.requestSwitchover(to: site)
            if let refusal = decisions.first(where: { $0.contains("refused") }) {
                throw StepActionError(.failed, "the election refused the switchover to \(site): \(refusal)", retriable: true)
            }
            let interval = Duration.milliseconds(50)
            for _ in 0...max(1, Int((context.timeout ?? .seconds(30)) / interval)) {
                if let done = try moved(to: site, after: context.epoch) { return done }
                try await context.clock.sleep(for: interval)
            }
            throw StepActionError(
                .timedOut, "no new epoch with \(site) active was committed in time (decisions: \(decisions.joined(separator: "; ")))", retriable: true)
        }
    }

    /// The outcome of a promotion already committed, `nil` while none is, or a stale-epoch
    /// error when another configuration won.
    func moved(to site: SiteID, after epoch: Epoch) throws(StepActionError) -> StepOutcome? {
        let committed = control.committed()
        guard committed.epoch > epoch else { return nil }
        guard committed.activeSite == site else {
            throw StepActionError(.staleEpoch, "\(committed) was committed meanwhile; \(site) was not made active", retriable: false)
        }
        return StepOutcome(
            summary: "\(site) is active in \(committed.epoch) (\(committed.cause.rawValue))", outputs: ["epoch": String(committed.epoch.rawValue), "active": site.rawValue],
            epoch: committed.epoch, alert: true)
    }

    /// `announce{site,state}`: what sidecars tell applications. `switching` is set at the named
    /// site's agent and every other member's (applications stop producing wherever they ask);
    /// `serving` clears it everywhere, releases the flows held for the move, and at the active
    /// site waits until it serves; `promoting` checks the named site is the one promoting.
    var announce: any StepAction {
        DataPlaneStepAction(
            "announce",
            [StepParameterSpec("site", required: true, "the site whose agent announces"), StepParameterSpec("state", required: true, "switching, serving or promoting")]
        ) { context in
            let (site, state) = try announcement(context)
            return StepPlan(summary: "\(site) announces \(state)", changes: ["sidecars answer \(state) (\(site) and the other members)"])
        } run: { context in
            let (site, state) = try announcement(context)
            return try await announce(state, at: site, context)
        }
    }

    func announcement(_ context: StepContext) throws(StepActionError) -> (SiteID, SidecarState) {
        let site = try site(context.parameters, "site")
        let text = try context.parameters.string("state")
        guard let state = SidecarState(rawValue: text), state != .fenced else {
            throw .parameter("state", "is \(text); announce switching, serving or promoting")
        }
        return (site, state)
    }

    func announce(_ state: SidecarState, at site: SiteID, _ context: StepContext) async throws -> StepOutcome {
        let command = DataPlaneCommand(.announce, epoch: context.epoch, state: state)
        let reply = try await context.untilReady { try await control.require(command, at: site) }
        var others: [String] = []
        if state != .promoting {
            for other in control.memberSites where other != site {
                do {
                    let answer = try await context.untilReady(limit: .seconds(5)) { try await control.require(command, at: other) }
                    others.append("\(other): \(answer.summary)")
                } catch {
                    // The named site's answer is what decides; another member that cannot be
                    // told repeats the active site's answer as soon as it hears it.
                    others.append("\(other): not told (\(error))")
                }
            }
        }
        return StepOutcome(summary: ([reply.summary] + others).joined(separator: "; "), outputs: reply.outputs)
    }

    /// `unfence-site{site, announce?}`: fencing's unfence, then (back-out) `announce` at `site`.
    var unfenceSite: any StepAction {
        let unfence = FenceSiteAction(actions: fencing, fencing: false)
        return DataPlaneStepAction(
            "unfence-site",
            (unfence.parameterSpecs ?? []) + [StepParameterSpec("announce", "then announce this state at the site (serving: the move is backed out)")]
        ) { context in
            var plan = try await unfence.plan(context)
            if let state = context.parameters["announce"] { plan.changes.append("\(try site(context.parameters, "site")) announces \(state)") }
            return plan
        } run: { context in
            var outcome = try await unfence.run(context)
            guard context.parameters["announce"] != nil else { return outcome }
            let state = try context.parameters.string("announce")
            guard let wanted = SidecarState(rawValue: state), wanted == .serving || wanted == .switching else {
                throw StepActionError.parameter("announce", "is \(state); use serving (or switching)")
            }
            let announced = try await announce(wanted, at: try site(context.parameters, "site"), context)
            outcome.summary += "; " + announced.summary
            return outcome
        }
    }
}
