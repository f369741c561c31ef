import AgentServer
import Foundation

/// What a watch over a stretch of time saw.
struct Watch {
    var samples = 0
    /// Every problem a sample reported, with the time since the watch began.
    var problems: [String] = []

    /// The first problems and how many there were, short enough for a test failure message.
    var summary: String {
        problems.isEmpty ? "no problem" : "\(problems.count) problems, first: \(problems.prefix(6).joined(separator: "; "))"
    }
}

/// Samples `check` every `interval` until `window` has passed and collects every problem it
/// reports.
///
/// Why a window and not a condition: these tests assert that something does *not* happen (a
/// failover, a failback, a new epoch). No single observation proves an absence, so the test
/// keeps checking for a bounded time long enough for the unwanted change to have completed
/// several times over (`SiteLab.quietWindow`), and every sample must pass.
func watch(for window: Duration, every interval: Duration = .milliseconds(100), _ check: () async -> [String]) async -> Watch {
    let start = ContinuousClock.now
    var result = Watch()
    while ContinuousClock.now - start < window {
        let problems = await check()
        result.samples += 1
        let at = ContinuousClock.now - start
        result.problems += problems.map { "at \(at): \($0)" }
        try? await Task.sleep(for: interval)
    }
    return result
}

extension SiteLab {
    /// What one sample of the agents' sidecar answers shows wrong with "`activeHost`'s site is
    /// active in `epoch` and serves; every other site's agent follows and does not serve".
    /// Agents on `answering` hosts must answer; the others are checked only if they do.
    func configurationProblems(activeHost: String, epoch: UInt64, answering: Set<String>) -> [String] {
        let activeSite = Self.agents.first { $0.0 == activeHost }?.1 ?? activeHost
        var problems: [String] = []
        for (host, agent) in Self.agents {
            guard let answer = active(host) else {
                if answering.contains(host) { problems.append("\(agent) did not answer /v1/active") }
                continue
            }
            if answer.epoch != epoch || answer.activeSite != activeSite {
                problems.append("\(agent) says \(answer.activeSite) is active in e\(answer.epoch), expected \(activeSite) in e\(epoch)")
            }
            if answer.servingHere != (host == activeHost) {
                problems.append("\(agent) answers servingHere \(answer.servingHere)")
            }
        }
        return problems
    }
}
