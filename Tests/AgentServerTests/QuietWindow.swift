import AgentServer
import Foundation
import Synchronization

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

/// One agent's sidecar answer, with the instants just before the request and just after the
/// answer: the agent's state at some moment between them.
struct TimedAnswer {
    var host: String
    var agent: String
    var answer: ActiveAnswer?
    var sent: ContinuousClock.Instant
    var received: ContinuousClock.Instant

    func overlaps(_ other: TimedAnswer) -> Bool { sent < other.received && other.sent < received }
}

extension SiteLab {
    /// Every agent's `/v1/active`, asked at once (one thread each), so the answers describe
    /// one moment rather than a sweep across agents during which the active site could move.
    func sampleAll() -> [TimedAnswer] {
        let agents = Self.agents
        let answers = Mutex([TimedAnswer?](repeating: nil, count: agents.count))
        DispatchQueue.concurrentPerform(iterations: agents.count) { index in
            let (host, agent) = agents[index]
            let sent = ContinuousClock.now
            let answer = active(host)
            let timed = TimedAnswer(host: host, agent: agent, answer: answer, sent: sent, received: ContinuousClock.now)
            answers.withLock { $0[index] = timed }
        }
        return answers.withLock { $0.compactMap { $0 } }
    }

    /// What one sample of the agents' sidecar answers shows wrong with "`activeHost`'s site is
    /// active in `epoch` and serves; every other site's agent follows and does not serve".
    /// Agents on `answering` hosts must answer; the others are checked only if they do. Two
    /// agents that serve in answers whose request windows overlap are two active sites at once.
    func configurationProblems(activeHost: String, epoch: UInt64, answering: Set<String>) -> [String] {
        let activeSite = Self.agents.first { $0.0 == activeHost }?.1 ?? activeHost
        let sample = sampleAll()
        var problems: [String] = []
        for timed in sample {
            guard let answer = timed.answer else {
                if answering.contains(timed.host) { problems.append("\(timed.agent) did not answer /v1/active") }
                continue
            }
            if answer.epoch != epoch || answer.activeSite != activeSite {
                problems.append("\(timed.agent) says \(answer.activeSite) is active in e\(answer.epoch), expected \(activeSite) in e\(epoch)")
            }
            if answer.servingHere != (timed.host == activeHost) {
                problems.append("\(timed.agent) answers servingHere \(answer.servingHere)")
            }
        }
        let serving = sample.filter { $0.answer?.servingHere == true }
        for (index, first) in serving.enumerated() {
            for second in serving.dropFirst(index + 1) where first.overlaps(second) {
                problems.append("\(first.agent) and \(second.agent) both serve active in overlapping requests")
            }
        }
        return problems
    }
}
