import AsyncHTTPClient
import Consensus
import Foundation
import NIOCore
import Orchestrator
import Sites
import SwitchbackConfiguration

/// The agent's ``DataPlaneControl``: the runbook's data-plane steps reach this agent's own
/// ``DataPlane`` directly and another site's agent through `POST /v1/peer/dataplane`, signed
/// with the peer secret like every peer message (so only the agents can move flows or change
/// what sidecars say); planned moves go through this agent's election.
final class AgentDataPlaneControl: DataPlaneControl {
    let memberSites: [SiteID]
    private let ownSite: SiteID?
    private let me: AgentID
    private let host: ElectionHost
    private let dataPlane: DataPlane?
    private let probes: ProbeBoard
    private let agentURLs: [SiteID: String]
    private let signature: PeerSignature
    private let client: HTTPClient

    init(configuration: AgentConfiguration, host: ElectionHost, dataPlane: DataPlane?, probes: ProbeBoard, client: HTTPClient) {
        memberSites = configuration.sites.map(\.name)
        ownSite = configuration.ownSite?.name
        me = configuration.agentID
        self.host = host
        self.dataPlane = dataPlane
        self.probes = probes
        var urls: [SiteID: String] = [:]
        for site in configuration.sites { urls[site.name] = site.agentURL }
        agentURLs = urls
        signature = PeerSignature(secret: configuration.auth.peerSecret.revealed())
        self.client = client
    }

    func committed() -> SiteConfig { host.board.current.config }

    func probe(_ site: SiteID) -> ProbeReading? {
        guard let view = probes.all[site.rawValue] else { return nil }
        return ProbeReading(
            healthy: view.healthy,
            detail: view.healthy ? "healthy (probe \(view.latencyMilliseconds) ms)" : "probe failed: \(view.failure ?? "unknown")")
    }

    func requestSwitchover(to site: SiteID) async -> [String] {
        await host.perform(.switchover(to: site)).map(\.message)
    }

    func perform(_ command: DataPlaneCommand, at site: SiteID) async throws(StepActionError) -> DataPlaneReply {
        if site == ownSite, let dataPlane { return await dataPlane.perform(command) }
        guard let base = agentURLs[site] else {
            throw StepActionError.parameter("site", "names \(site), which has no agent URL under `sites`")
        }
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(command))
        } catch {
            throw StepActionError(.failed, "cannot encode \(command): \(error)", retriable: false)
        }
        var request = HTTPClientRequest(url: base + Self.path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let timestamp = Int64(Date().timeIntervalSince1970)
        for (name, value) in signature.headers(sender: me.rawValue, recipient: site.rawValue, timestamp: timestamp, body: body) {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        // A drain may take its whole limit; the step's own timeout cancels this call earlier.
        let limit = (command.drainWithin ?? .zero) + .seconds(Int64(Self.replyLimitSeconds))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(limit.milliseconds))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw StepActionError(
                    .failed, "\(site)'s agent refused \(command) (\(response.status.code)): \(String(buffer: bytes).prefix(300))",
                    retriable: response.status.code >= 500)
            }
            return try JSONDecoder().decode(DataPlaneReply.self, from: Data(buffer: bytes))
        } catch let error as StepActionError {
            throw error
        } catch is CancellationError {
            throw StepActionError(.timedOut, "\(command) at \(site) was cancelled", retriable: true)
        } catch {
            throw StepActionError(.failed, "\(site)'s agent at \(base) did not answer \(command): \(error)", retriable: true)
        }
    }

    static let path = "/v1/peer/dataplane"
    /// How long an agent may take to answer a command beyond its drain (an announce waits for
    /// the promotion to finish, bounded the same way at the receiver).
    static let replyLimitSeconds = 70
}
