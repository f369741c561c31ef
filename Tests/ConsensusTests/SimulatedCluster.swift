import Consensus
import Sites

/// Several `Election`s wired through an in-memory network the test controls: deliver, drop,
/// delay, cut links, crash and restart agents (from what they persisted), fail clusters, and
/// move a simulated clock. A checker runs after every event and records safety violations.
///
/// This is a fake network on purpose: the election is pure, and only a simulated clock lets
/// hundreds of partition schedules run deterministically in seconds.
struct SimulatedCluster {
    /// One agent's process, disk and clock. A class, so that the checker can look at every
    /// agent after every event without copying elections around.
    final class Agent {
        let id: AgentID
        let site: SiteID?
        var election: Election?
        /// What the agent last persisted: its "disk".
        var disk: ElectionState
        /// This agent's clock reads simulated time × `clockRate` plus this offset (agents
        /// share no origin, and their clocks run at slightly different rates).
        var clockOffset: Duration
        var clockRate: Double = 1
        var lastProbeAt: Duration?
        var starts: Int = 1
        private var memo: (Duration, MonotonicInstant)?

        init(id: AgentID, site: SiteID?, disk: ElectionState, clockOffset: Duration) {
            self.id = id
            self.site = site
            self.disk = disk
            self.clockOffset = clockOffset
        }

        func local(at now: Duration) -> MonotonicInstant {
            if let memo, memo.0 == now { return memo.1 }
            let reading = MonotonicInstant(sinceOrigin: clockRate == 1 ? now + clockOffset : now * clockRate + clockOffset)
            memo = (now, reading)
            return reading
        }

        func setClock(rate: Double, offset: Duration) {
            clockRate = rate
            clockOffset = offset
            memo = nil
        }
    }

    struct Link: Hashable {
        var from: AgentID
        var to: AgentID
    }

    struct InFlight {
        var at: Duration
        var sequence: Int
        var to: AgentID
        var message: PeerMessage
    }

    /// A non-message action, with when and where it happened.
    struct Record {
        var at: Duration
        var agent: AgentID
        var action: ElectionAction
    }

    let voters: Voters
    let policy: ElectionPolicy
    private(set) var now: Duration = .zero
    private(set) var agents: [AgentID: Agent] = [:]
    var clusterUp: [SiteID: Bool]
    private(set) var cut: Set<Link> = []
    private var inFlight: [InFlight] = []
    private var sequence = 0
    private var lastTickAt: Duration = .zero
    var tickInterval: Duration = .milliseconds(100)
    /// Normal one-way latency range in milliseconds, and an occasional long delay.
    var latencyMilliseconds: ClosedRange<Int> = 1...40
    var longDelayProbability: Double = 0
    /// Chance that any one message is lost.
    var dropProbability: Double = 0
    var longDelay: Duration = .seconds(2)
    var rng: SplitMix64

    private(set) var records: [Record] = []
    private(set) var violations: [String] = []
    /// Separate split-brain intervals (a run of consecutive checks with two sites active).
    private(set) var splitBrainIntervals = 0
    private var inSplitBrain = false
    private var committedByEpoch: [Epoch: SiteConfig] = [:]
    /// Which agents ever persisted each configuration (accepted or committed).
    private var storedBy: [SiteConfig: Set<AgentID>] = [:]
    /// Set when a test has an operator decide without a majority (exempts the majority check).
    var operatorMayDecideAlone = false
    private var highestEpoch: [AgentID: Epoch] = [:]
    var keepRecords = true

    init(
        voters: Voters, policy: ElectionPolicy, initial: ElectionState = Fixture.initialState, seed: UInt64,
        clockDrift: Double = 0
    ) throws {
        self.voters = voters
        self.maxClockDrift = clockDrift
        self.policy = policy
        self.rng = SplitMix64(seed: seed)
        self.clusterUp = Dictionary(uniqueKeysWithValues: voters.sites.map { ($0, true) })
        for id in voters.all {
            let offset = Duration.seconds(Int64(rng.next() % 10_000))
            agents[id] = Agent(id: id, site: voters.site(of: id), disk: initial, clockOffset: offset)
            try start(id)
        }
    }

    /// Largest relative clock rate error of any agent (0.01 = ±1 %); the lease safety margin
    /// must cover it.
    var maxClockDrift: Double = 0

    func localNow(_ id: AgentID) -> MonotonicInstant {
        agents[id]?.local(at: now) ?? MonotonicInstant(sinceOrigin: now)
    }

    func election(_ id: AgentID) -> Election? { agents[id]?.election }

    /// The sites whose agents serve as active right now.
    var servingSites: [SiteID] {
        agents.values.compactMap { agent in
            guard let election = agent.election, election.isServingActive(now: localNow(agent.id)) else { return nil }
            return agent.site
        }.sorted()
    }

    // MARK: Faults

    mutating func cutLink(_ a: AgentID, _ b: AgentID, bothWays: Bool = true) {
        cut.insert(Link(from: a, to: b))
        if bothWays { cut.insert(Link(from: b, to: a)) }
    }

    mutating func healLink(_ a: AgentID, _ b: AgentID) {
        cut.remove(Link(from: a, to: b))
        cut.remove(Link(from: b, to: a))
    }

    mutating func isolate(_ id: AgentID) {
        for other in voters.all where other != id { cutLink(id, other) }
    }

    mutating func healAll() { cut = [] }

    /// Makes `id`'s clock run at `rate` × real time from now on (its reading stays continuous).
    mutating func setClockRate(_ id: AgentID, _ rate: Double) {
        guard let agent = agents[id] else { return }
        let reading = localNow(id).sinceOrigin
        agent.setClock(rate: rate, offset: reading - now * rate)
    }

    mutating func crash(_ id: AgentID) { agents[id]?.election = nil }

    /// Starts (or restarts) an agent from its disk, with a fresh seed and a new clock origin.
    mutating func start(_ id: AgentID) throws {
        guard let agent = agents[id] else { return }
        let rate = maxClockDrift > 0 ? Double.random(in: (1 - maxClockDrift)...(1 + maxClockDrift), using: &rng) : 1
        agent.setClock(rate: rate, offset: .seconds(Int64(rng.next() % 10_000)))
        agent.lastProbeAt = nil
        agent.starts += 1
        agent.election = try Election(
            agent: id, voters: voters, policy: policy, state: agent.disk, randomSeed: rng.next(), now: localNow(id))
    }

    /// Replaces a crashed agent's disk and starts it (a state written by hand, for tests).
    mutating func restart(_ id: AgentID, state: ElectionState) throws {
        agents[id]?.disk = state
        try start(id)
    }

    /// An operator command at one agent.
    mutating func command(_ event: ElectionEvent, at id: AgentID) {
        handle(event, at: id)
    }

    // MARK: Running

    /// Runs the simulation for `duration`: ticks every agent every 100 ms, probes every probe
    /// interval, delivers messages at their arrival times.
    mutating func run(for duration: Duration) {
        let end = now + duration
        while true {
            let nextTick = lastTickAt + tickInterval
            let nextMessage = inFlight.indices.min { (inFlight[$0].at, inFlight[$0].sequence) < (inFlight[$1].at, inFlight[$1].sequence) }
            let messageAt = nextMessage.map { inFlight[$0].at }
            let next = min(nextTick, messageAt ?? nextTick)
            guard next <= end else { break }
            now = next
            if let index = nextMessage, messageAt == next {
                let delivery = inFlight.remove(at: index)
                if !cut.contains(Link(from: delivery.message.from, to: delivery.to)) {
                    handle(.received(delivery.message), at: delivery.to)
                }
                continue
            }
            lastTickAt = next
            for id in voters.all where agents[id]?.election != nil {
                if agents[id]?.lastProbeAt.map({ now - $0 >= policy.probeInterval }) ?? true {
                    agents[id]?.lastProbeAt = now
                    for site in voters.sites {
                        handle(.probeResult(site: site, healthy: probe(site, from: id), observedAt: localNow(id)), at: id)
                    }
                }
                handle(.tick, at: id)
            }
        }
        now = end
    }

    /// A probe succeeds when the cluster is up and reachable both ways from the prober.
    func probe(_ site: SiteID, from id: AgentID) -> Bool {
        guard clusterUp[site] == true, let owner = voters.agent(of: site) else { return false }
        if owner == id { return true }
        return !cut.contains(Link(from: id, to: owner)) && !cut.contains(Link(from: owner, to: id))
    }

    private mutating func handle(_ event: ElectionEvent, at id: AgentID) {
        let now = localNow(id)
        // Move the election out while it changes, so its storage is not copied (copy-on-write).
        guard var election = agents[id]?.election else { return }
        agents[id]?.election = nil
        let actions = election.handle(event, now: now)
        agents[id]?.election = election
        for action in actions { perform(action, by: id) }
        check(after: id)
    }

    private mutating func perform(_ action: ElectionAction, by id: AgentID) {
        switch action {
        case .persist(let state):
            agents[id]?.disk = state
            storedBy[state.committed, default: []].insert(id)
            if let accepted = state.accepted { storedBy[accepted, default: []].insert(id) }
        case .promote(let config), .startServingActive(let config):
            // Nobody acts on a configuration before a majority has it on disk.
            let holders = storedBy[config]?.count ?? 0
            if config.epoch > .initial, holders < voters.majority, !operatorMayDecideAlone {
                violations.append("t=\(now): \(id) acted on \(config) stored by only \(holders) voters")
            }
            if keepRecords { records.append(Record(at: now, agent: id, action: action)) }
        case .send(let message, let to):
            enqueue(message, to: to)
        case .broadcast(let message):
            for other in voters.all where other != id { enqueue(message, to: other) }
        default:
            if keepRecords || isNotable(action) { records.append(Record(at: now, agent: id, action: action)) }
        }
    }

    private func isNotable(_ action: ElectionAction) -> Bool {
        switch action {
        case .promote, .adoptConfig: true
        default: false
        }
    }

    private mutating func enqueue(_ message: PeerMessage, to: AgentID) {
        guard !cut.contains(Link(from: message.from, to: to)) else { return }
        if dropProbability > 0, Double.random(in: 0..<1, using: &rng) < dropProbability { return }
        var delay = Duration.milliseconds(Int.random(in: latencyMilliseconds, using: &rng))
        if longDelayProbability > 0, Double.random(in: 0..<1, using: &rng) < longDelayProbability {
            delay = delay + longDelay * Double.random(in: 0..<1, using: &rng)
        }
        sequence += 1
        inFlight.append(InFlight(at: now + delay, sequence: sequence, to: to, message: message))
    }

    // MARK: Checker

    /// Safety after every event: at most one site serving, epochs never going back per agent
    /// (in memory and on disk), and one committed configuration per epoch.
    ///
    /// Serving only ever starts at an event of the agent that starts (without events a lease
    /// can only run out), so checking the other agents whenever the handled one serves finds
    /// every overlap.
    private mutating func check(after id: AgentID) {
        guard let state = agents[id]?.election?.state, let disk = agents[id]?.disk else { return }
        if agents[id]?.election?.isServingActive(now: localNow(id)) == true {
            let site = agents[id]?.site
            let others = voters.all.filter { other in
                other != id && agents[other]?.site != site
                    && agents[other]?.election?.isServingActive(now: localNow(other)) == true
            }
            if others.isEmpty {
                inSplitBrain = false
            } else {
                if !inSplitBrain { splitBrainIntervals += 1 }
                inSplitBrain = true
                violations.append("t=\(now): \(id) and \(others) serve active at once")
            }
        }
        let epoch = max(state.currentEpoch, disk.currentEpoch)
        let previous = highestEpoch[id] ?? .initial
        if epoch < previous {
            violations.append("t=\(now): \(id) went back from \(previous) to \(epoch)")
        }
        if disk.currentEpoch < previous {
            violations.append("t=\(now): \(id)'s disk went back to \(disk.currentEpoch)")
        }
        highestEpoch[id] = max(epoch, previous)
        let committed = state.committed
        if let known = committedByEpoch[committed.epoch] {
            if known != committed {
                violations.append("t=\(now): \(id) committed \(committed) but \(known) was committed in that epoch")
            }
        } else {
            committedByEpoch[committed.epoch] = committed
        }
    }

    /// Every configuration some agent committed, by epoch.
    var committedConfigs: [Epoch: SiteConfig] { committedByEpoch }

    /// Promotions performed, in order.
    var promotions: [Record] {
        records.filter { if case .promote = $0.action { true } else { false } }
    }

    func records(of id: AgentID) -> [Record] { records.filter { $0.agent == id } }
}
