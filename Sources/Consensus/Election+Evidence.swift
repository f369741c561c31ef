/// When a configuration another agent reports counts as committed here (issue 11, item 5).
///
/// A peer's word alone is not enough: a heartbeat saying "committed: e9, dc-b active" from one
/// confused or hostile agent would otherwise make every listener promote dc-b or drop dc-a's
/// lease. A newer configuration is adopted only with evidence that a majority stored it:
/// - from the leader this voter voted for in that epoch, once it says it committed: only that
///   candidate can have led the epoch (one vote per epoch, votes name their candidate), and a
///   leader reports a commit only after a majority acknowledged it;
/// - or when a majority of voters (this one included, by its own stored copy) show it as
///   stored or committed in their latest messages: two majorities share a voter, so no single
///   agent can make up such a majority, and the leader having died does not matter (a
///   configuration a majority stored is committed even if nobody said so yet);
/// - or from the agent of the site it deposes (active in this voter's committed configuration,
///   not in the claimed one) when that agent and this voter are a majority: a claim against its
///   own site's interest; that agent could stop serving on its own anyway, and a new active
///   site often hears of its promotion only through it (its link to the leader cut);
/// - or, with two voters and no witness, from the other one: there every decision needs both,
///   so the other agent's word is all the evidence there can be (an operator's decision
///   without a majority is exactly that word).
/// An agent that lies about commits can also run a fake operator election, so these rules
/// do not make the election Byzantine-safe; they stop a single agent's message, replayed or
/// malformed, from handing out the active role that no majority stored.
extension Election {
    /// Considers `config`, which `peer` says is committed.
    mutating func adoptClaim(_ config: SiteConfig, from peer: AgentID, now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        guard config.epoch > state.committed.epoch else { return }
        guard isKnown(config) else {
            audit(.messageRefused, "configuration \(config) from \(peer) names an unknown site; ignored", &actions)
            return
        }
        if state.votedFor == peer, state.currentEpoch == config.epoch {
            adopt(config, via: "\(peer), the leader this voter voted for in \(config.epoch)", now: now, &actions)
            return
        }
        let deposes = peer == voters.agent(of: state.committed.activeSite) && config.activeSite != state.committed.activeSite
        if deposes && voters.majority <= 2 {
            adopt(config, via: "\(peer), the agent of the site it deposes", now: now, &actions)
            return
        }
        if voters.count == 2 {
            adopt(config, via: "\(peer), the only other voter", now: now, &actions)
            return
        }
        claims[peer] = config
        adoptProven(now: now, &actions)
    }

    /// Adopts the newest configuration that a majority shows as stored or committed.
    mutating func adoptProven(now: MonotonicInstant, _ actions: inout [ElectionAction]) {
        var holders: [SiteConfig: Set<AgentID>] = [:]
        if let mine = state.accepted { holders[mine, default: []].insert(me) }
        for (peer, view) in detector.peers {
            if let theirs = view.heartbeat.accepted { holders[theirs, default: []].insert(peer) }
        }
        for (peer, claimed) in claims { holders[claimed, default: []].insert(peer) }
        let proven = holders.filter { $0.key.epoch > state.committed.epoch && $0.value.count >= voters.majority }
        if let newest = proven.max(by: { $0.key.epoch < $1.key.epoch }) {
            adopt(newest.key, via: "stored by a majority (\(newest.value.sorted().map(\.rawValue)))", now: now, &actions)
        }
    }
}
