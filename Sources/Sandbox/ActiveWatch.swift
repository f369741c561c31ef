import Foundation
import Synchronization

/// The outside observer: samples every agent's `/v1/health/active` and `/v1/active` about 20
/// times a second and keeps what a split brain or a regression would look like — intervals in
/// which two sites answered active at once, and any agent's epoch going backwards.
public final class ActiveWatch: Sendable {
    /// One agent's latest sample.
    public struct Sample: Sendable {
        public var answer: SidecarAnswer?
        /// Whether `/v1/health/active` answered 200; `nil` when the agent did not answer.
        public var healthActive: Bool?
    }

    /// An interval in which more than one site answered active.
    public struct Overlap: Codable, Sendable, Hashable {
        public var startSeconds: Double
        public var endSeconds: Double?
        public var sites: [String]
    }

    /// An agent answered a lower epoch than it had answered before.
    public struct Regression: Codable, Sendable, Hashable {
        public var atSeconds: Double
        public var agent: String
        public var from: UInt64
        public var to: UInt64
    }

    /// A site answered active when the sample before it had a different one (or none).
    public struct Change: Sendable {
        public var at: ContinuousClock.Instant
        public var activeSites: [String]
        public var epoch: UInt64
    }

    private struct State {
        var samples: [String: Sample] = [:]
        var overlaps: [Overlap] = []
        var regressions: [Regression] = []
        var changes: [Change] = []
        var lastEpoch: [String: UInt64] = [:]
        var polls = 0
    }

    private let lab: Lab
    private let origin: ContinuousClock.Instant
    private let interval: Duration
    private let state = Mutex(State())

    public init(lab: Lab, origin: ContinuousClock.Instant, interval: Duration = .milliseconds(50)) {
        self.lab = lab
        self.origin = origin
        self.interval = interval
    }

    /// Samples until cancelled.
    public func run() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            await sampleOnce()
            try? await Task.sleep(until: started + interval, clock: .continuous)
        }
    }

    func sampleOnce() async {
        let round = await withTaskGroup(of: (String, Sample).self) { group in
            for agent in LabLayout.agents {
                group.addTask { [lab] in
                    let base = lab.layout.agentURL(agent)
                    async let health = lab.http.get(base + "/v1/health/active", timeout: .milliseconds(400))
                    async let active = lab.http.get(base + "/v1/active", timeout: .milliseconds(400))
                    let healthAnswer = await health
                    let answer = await active.flatMap { try? JSONDecoder().decode(SidecarAnswer.self, from: $0.body) }
                    return (agent, Sample(answer: answer, healthActive: healthAnswer.map { $0.status == 200 }))
                }
            }
            var round: [String: Sample] = [:]
            for await (agent, sample) in group { round[agent] = sample }
            return round
        }
        record(round, at: ContinuousClock.now)
    }

    func record(_ round: [String: Sample], at now: ContinuousClock.Instant) {
        let seconds = (now - origin).seconds
        state.withLock { state in
            state.polls += 1
            for (agent, sample) in round {
                state.samples[agent] = sample
                if let epoch = sample.answer?.epoch {
                    if let last = state.lastEpoch[agent], epoch < last {
                        state.regressions.append(Regression(atSeconds: seconds, agent: agent, from: last, to: epoch))
                    }
                    state.lastEpoch[agent] = max(epoch, state.lastEpoch[agent] ?? 0)
                }
            }
            let active = round.filter { $0.value.healthActive == true }.map(\.key).sorted()
            let epoch = round.values.compactMap { $0.answer?.epoch }.max() ?? 0
            if state.changes.last?.activeSites != active {
                state.changes.append(Change(at: now, activeSites: active, epoch: epoch))
            }
            if active.count > 1 {
                if let last = state.overlaps.last, last.endSeconds == nil {
                    state.overlaps[state.overlaps.count - 1].sites = Array(Set(last.sites + active)).sorted()
                } else {
                    state.overlaps.append(Overlap(startSeconds: seconds, endSeconds: nil, sites: active))
                }
            } else if let last = state.overlaps.last, last.endSeconds == nil {
                state.overlaps[state.overlaps.count - 1].endSeconds = seconds
            }
        }
    }

    public var samples: [String: Sample] { state.withLock { $0.samples } }
    public var overlaps: [Overlap] { state.withLock { $0.overlaps } }
    public var regressions: [Regression] { state.withLock { $0.regressions } }
    public var polls: Int { state.withLock { $0.polls } }

    /// The answer with the highest epoch among the agents' latest samples.
    public var newest: SidecarAnswer? {
        state.withLock { $0.samples.values.compactMap(\.answer).max { $0.epoch < $1.epoch } }
    }

    /// The committed active site as the newest answer has it.
    public var activeSite: String? { newest?.activeSite }

    /// The first instant at or after `since` at which `site` alone answered active.
    public func firstServing(_ site: String, since: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        state.withLock { state in
            state.changes.first { $0.at >= since && $0.activeSites == [site] }?.at
        }
    }
}
