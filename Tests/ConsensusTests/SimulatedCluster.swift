import Consensus

/// Several `Election`s wired through an in-memory network the test controls: deliver, drop,
/// delay, cut links, crash and restart agents (from what they persisted), fail clusters, and
/// move a simulated clock. A checker runs after every event and records safety violations.
///
/// This is a fake network on purpose: the election is pure, and only a simulated clock lets
/// hundreds of partition schedules run deterministically in seconds.
struct SimulatedCluster {
    struct Agent {
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
    var longDelay: Duration = .seconds(2)
    var rng: SplitMix64

    private(set) var records: [Record] = []
    private(set) var violations: [String] = []
    /// Separate split-brain intervals (a run of consecutive checks with two sites active).
    private(set) var splitBrainIntervals = 0
    private var inSplitBrain = false
    private var committedByEpoch: [Epoch: SiteConfig] = [:]
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
            agents[id] = Agent(id: id, site: voters.site(of: id), election: nil, disk: initial, clockOffset: offset)
            try start(id)
        }
    }

    /// Largest relative clock rate error of any agent (0.01 = ±1 %); the lease safety margin
    /// must cover it.
    var maxClockDrift: Double = 0

    func localNow(_ id: AgentID) -> MonotonicInstant {
        guard let agent = agents[id] else { return MonotonicInstant(sinceOrigin: now) }
        return MonotonicInstant(sinceOrigin: now * agent.clockRate + agent.clockOffset)
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
        guard agents[id] != nil else { return }
        let reading = localNow(id).sinceOrigin
        agents[id]?.clockRate = rate
        agents[id]?.clockOffset = reading - now * rate
    }

    mutating func crash(_ id: AgentID) { agents[id]?.election = nil }

    /// Starts (or restarts) an agent from its disk, with a fresh seed and a new clock origin.
    mutating func start(_ id: AgentID) throws {
        guard var agent = agents[id] else { return }
        agent.clockOffset = .seconds(Int64(rng.next() % 10_000))
        agent.clockRate = maxClockDrift > 0 ? Double.random(in: (1 - maxClockDrift)...(1 + maxClockDrift), using: &rng) : 1
        agent.lastProbeAt = nil
        agent.starts += 1
        agents[id] = agent
        let election = try Election(
            agent: id, voters: voters, policy: policy, state: agent.disk, randomSeed: rng.next(), now: localNow(id))
        agents[id]?.election = election
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
                        handle(.probeResult(site: site, healthy: probe(site, from: id)), at: id)
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
        guard var election = agents[id]?.election else { return }
        let actions = election.handle(event, now: localNow(id))
        agents[id]?.election = election
        for action in actions { perform(action, by: id) }
        check(after: id)
    }

    private mutating func perform(_ action: ElectionAction, by id: AgentID) {
        switch action {
        case .persist(let state):
            agents[id]?.disk = state
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
    private mutating func check(after id: AgentID) {
        let serving = Set(servingSites)
        if serving.count > 1 {
            if !inSplitBrain { splitBrainIntervals += 1 }
            inSplitBrain = true
            violations.append("t=\(now): sites \(serving.sorted()) both serving active")
        } else {
            inSplitBrain = false
        }
        guard let agent = agents[id], let election = agent.election else { return }
        let epoch = max(election.state.currentEpoch, agent.disk.currentEpoch)
        if let previous = highestEpoch[id], epoch < previous {
            violations.append("t=\(now): \(id) went back from \(previous) to \(epoch)")
        }
        if agent.disk.currentEpoch < (highestEpoch[id] ?? .initial) {
            violations.append("t=\(now): \(id)'s disk went back to \(agent.disk.currentEpoch)")
        }
        highestEpoch[id] = max(epoch, highestEpoch[id] ?? .initial)
        let committed = election.state.committed
        if let known = committedByEpoch[committed.epoch], known != committed {
            violations.append("t=\(now): \(id) committed \(committed) but \(known) was committed in that epoch")
        }
        committedByEpoch[committed.epoch] = committed
    }

    /// Every configuration some agent committed, by epoch.
    var committedConfigs: [Epoch: SiteConfig] { committedByEpoch }

    /// Promotions performed, in order.
    var promotions: [Record] {
        records.filter { if case .promote = $0.action { true } else { false } }
    }

    func records(of id: AgentID) -> [Record] { records.filter { $0.agent == id } }
}
