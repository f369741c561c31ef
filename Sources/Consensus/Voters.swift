import Sites

/// Everyone who votes: one agent per member site plus the witnesses.
///
/// A decision needs a majority (⌊n/2⌋+1) so that any two decisions share at least one voter,
/// who will refuse the second if it conflicts with the first. An odd total avoids a tie that
/// no side can win; two sites without a witness cannot fail over on their own (see
/// `automaticFailoverPossible`).
public struct Voters: Hashable, Sendable {
    /// The agent of each site.
    public let members: [SiteID: AgentID]
    public let witnesses: [AgentID]
    /// Every voter, in a stable order.
    public let all: [AgentID]
    /// Every site, in a stable order.
    public let sites: [SiteID]

    /// - Throws: `ElectionConfigError` when a site has no agent, an agent is listed twice,
    ///   or there are fewer than two sites.
    public init(members: [SiteID: AgentID], witnesses: [AgentID]) throws(ElectionConfigError) {
        guard members.count >= 2 else {
            throw ElectionConfigError(
                key: "sites",
                message: "the election needs at least two sites, got \(members.count); list every site with its agent"
            )
        }
        let everyone = Array(members.values) + witnesses
        guard Set(everyone).count == everyone.count else {
            throw ElectionConfigError(
                key: "witnesses",
                message: "an agent is listed more than once among sites and witnesses; give each agent one identity"
            )
        }
        self.members = members
        self.witnesses = witnesses
        self.all = everyone.sorted()
        self.sites = members.keys.sorted()
    }

    public var count: Int { all.count }

    /// The number of voters that makes a decision: ⌊n/2⌋+1.
    public var majority: Int { all.count / 2 + 1 }

    /// Two sites and no witness: losing either side leaves no majority, so only an operator
    /// may fail over (DESIGN.md §6).
    public var automaticFailoverPossible: Bool { !(members.count == 2 && witnesses.isEmpty) }

    public func contains(_ agent: AgentID) -> Bool { all.contains(agent) }

    public func site(of agent: AgentID) -> SiteID? {
        members.first { $0.value == agent }?.key
    }

    public func agent(of site: SiteID) -> AgentID? { members[site] }
}

/// An invalid election setting, naming the configuration key and what to change.
public struct ElectionConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "invalid election setting '\(key)': \(message)" }
}
