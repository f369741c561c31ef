import Consensus
import Sites

/// What the data-plane runbook actions need from the agent that runs them: the committed
/// configuration, each site's latest probe, the election (to commit a planned move) and a way
/// to have any site's agent do its part (``DataPlaneCommand``) — in this process when the site
/// is the agent's own, over the signed peer API otherwise.
///
/// A protocol so the actions are tested against a fake and the agent wires the real one.
public protocol DataPlaneControl: Sendable {
    /// The member sites (each runs an agent with a data plane), in configuration order.
    var memberSites: [SiteID] { get }

    /// The configuration this agent holds committed.
    func committed() -> SiteConfig

    /// The latest probe of `site`'s cluster from this agent: `nil` before the first.
    func probe(_ site: SiteID) -> ProbeReading?

    /// Has `site`'s agent do `command`.
    /// - Throws: ``StepActionError`` (retriable) when that agent cannot be reached; its own
    ///   refusal comes back as the reply's ``DataPlaneReply/error``.
    func perform(_ command: DataPlaneCommand, at site: SiteID) async throws(StepActionError) -> DataPlaneReply

    /// Asks the election for a planned switchover to `site` (vote, commit, the old lease
    /// waited out) and returns the election's decisions about the request.
    func requestSwitchover(to site: SiteID) async -> [String]
}

/// One probe result as the actions see it.
public struct ProbeReading: Sendable, Hashable {
    public var healthy: Bool
    public var detail: String

    public init(healthy: Bool, detail: String) {
        self.healthy = healthy
        self.detail = detail
    }
}

extension DataPlaneControl {
    /// Has `site`'s agent do `command` and throws its refusal.
    func require(_ command: DataPlaneCommand, at site: SiteID) async throws(StepActionError) -> DataPlaneReply {
        let reply = try await perform(command, at: site)
        if let error = reply.error { throw error }
        return reply
    }
}
