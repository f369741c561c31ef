import TestSupport
/// One fault on the lab's hosts (a, b: sites with agent and broker; w: witness).
enum ChaosFault: Hashable, Sendable, CustomStringConvertible {
    /// SIGKILL the agent; it is restarted from its data directory when the fault ends.
    case killAgent(String)
    /// SIGSTOP the agent; SIGCONT when the fault ends.
    case pauseAgent(String)
    /// SIGSTOP whichever site agent serves active when the fault starts (resolved then to
    /// `pauseAgent`); held past the lease, the resumed agent must learn it was fenced before it
    /// answers "active" again.
    case pauseServingAgent
    /// Drop everything between two hosts, both ways.
    case cutLink(String, String)
    /// Drop only what the first host receives from the second.
    case cutInbound(String, from: String)
    /// Drop everything between a host and both other agent hosts.
    case isolate(String)
    /// The site's broker swallows every request (its control endpoint), until healed.
    case blackholeBroker(String)

    /// The agent process the fault stops, if any; one step never stops one agent twice.
    var stoppedAgent: String? {
        switch self {
        case .killAgent(let host), .pauseAgent(let host): host
        case .pauseServingAgent: "serving"
        default: nil
        }
    }

    /// The kind of fault, for counting.
    var kind: String {
        switch self {
        case .killAgent: "kill"
        case .pauseAgent, .pauseServingAgent: "pause"
        case .cutLink: "cut both ways"
        case .cutInbound: "cut one way"
        case .isolate: "isolate"
        case .blackholeBroker: "blackhole"
        }
    }

    var description: String {
        switch self {
        case .killAgent(let host): "kill agent \(host)"
        case .pauseAgent(let host): "pause agent \(host)"
        case .pauseServingAgent: "pause the serving agent"
        case .cutLink(let first, let second): "cut \(first)<->\(second)"
        case .cutInbound(let host, let peer): "cut \(peer)->\(host)"
        case .isolate(let host): "isolate \(host)"
        case .blackholeBroker(let host): "blackhole broker \(host)"
        }
    }
}

/// Faults applied together, held for `hold`, then reverted; then `gap` of a healed network.
struct ChaosStep: Hashable, Sendable, CustomStringConvertible {
    var faults: [ChaosFault]
    var hold: Duration
    var gap: Duration

    var description: String { "\(faults.map(\.description).joined(separator: " + ")) for \(hold), then healed for \(gap)" }
}

/// A seeded sequence of fault steps filling about `length` of time.
struct ChaosSchedule: Sendable {
    static let agentHosts = ["a", "b", "w"]
    static let siteHosts = ["a", "b"]

    var seed: UInt64
    var steps: [ChaosStep]

    init(seed: UInt64, length: Duration) {
        self.seed = seed
        var random = SeededGenerator(seed: seed)
        var steps: [ChaosStep] = []
        var total = Duration.zero
        while total < length {
            var faults = [Self.fault(using: &random)]
            if Int.random(in: 0..<4, using: &random) == 0 {
                let second = Self.fault(using: &random)
                if second != faults[0] && (second.stoppedAgent == nil || second.stoppedAgent != faults[0].stoppedAgent) {
                    faults.append(second)
                }
            }
            // Pauses and isolations often outlast the 2 s lease, so the paused or cut-off
            // agent must notice it was fenced.
            let hold = Duration.milliseconds(Int.random(in: 500...5_000, using: &random))
            let gap = Duration.milliseconds(Int.random(in: 300...3_000, using: &random))
            steps.append(ChaosStep(faults: faults, hold: hold, gap: gap))
            total += hold + gap
        }
        // Every schedule pauses the serving agent past its 2 s lease at least once.
        let pausesServing = steps.contains { $0.faults.contains(.pauseServingAgent) && $0.hold > .seconds(2) }
        if !pausesServing, let index = steps.indices.randomElement(using: &random) {
            steps[index].faults = [.pauseServingAgent]
            steps[index].hold = .milliseconds(Int.random(in: 2_500...5_000, using: &random))
        }
        self.steps = steps
    }

    private static func fault(using random: inout SeededGenerator) -> ChaosFault {
        let host = agentHosts.randomElement(using: &random) ?? "a"
        let other = agentHosts.filter { $0 != host }.randomElement(using: &random) ?? "b"
        switch Int.random(in: 0..<12, using: &random) {
        case 0, 1: return .killAgent(host)
        case 2: return .pauseAgent(host)
        case 3: return .pauseServingAgent
        case 4, 5: return .cutLink(host, other)
        case 6: return .cutInbound(host, from: other)
        case 7, 8: return .isolate(host)
        default: return .blackholeBroker(siteHosts.randomElement(using: &random) ?? "a")
        }
    }
}
