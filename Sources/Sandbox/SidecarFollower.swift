import Foundation
import Synchronization

/// What an application does with its sidecar (contracts.md): long-poll `GET /v1/active`
/// (`?wait=…&after=EPOCH&state=STATE`) and keep the latest answer. It asks the agents in
/// order and moves to the next when one does not answer, as an application configured with
/// the sidecars of several sites would.
public final class SidecarFollower: Sendable {
    private let lab: Lab
    private let agents: [String]
    private let wait: Duration
    private let latest = Mutex<SidecarAnswer?>(nil)

    public init(lab: Lab, agents: [String] = LabLayout.agents, wait: Duration = .seconds(2)) {
        self.lab = lab
        self.agents = agents
        self.wait = wait
    }

    /// The last answer; `nil` before the first.
    public var current: SidecarAnswer? { latest.withLock { $0 } }

    /// Long-polls until cancelled.
    public func run() async {
        var index = 0
        while !Task.isCancelled {
            let agent = agents[index % agents.count]
            var url = lab.layout.agentURL(agent) + "/v1/active"
            if let known = current {
                url += "?wait=\(wait.wholeMilliseconds)ms&after=\(known.epoch)&state=\(known.effectiveState.rawValue)"
            }
            let answer = await lab.http.get(url, timeout: wait + .seconds(2))
            if let answer, answer.status == 200, let decoded = try? JSONDecoder().decode(SidecarAnswer.self, from: answer.body) {
                latest.withLock { $0 = decoded }
            } else {
                index += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
