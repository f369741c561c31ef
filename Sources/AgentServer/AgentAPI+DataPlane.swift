import Foundation
import Hummingbird
import Orchestrator

extension AgentAPI {
    /// `POST /v1/peer/dataplane`: another agent's runbook asks this agent's data plane to do
    /// its part (``DataPlaneCommand``). Checked like every peer message (sender, recipient,
    /// time window, certificate, signature, replay); answered with a ``DataPlaneReply``, whose
    /// error says why the command was refused.
    func dataPlaneCommand(_ request: Request, context: AgentRequestContext) async -> Response {
        let sender: String
        let body: [UInt8]
        switch await verifyPeer(request, context: context) {
        case .refused(let response): return response
        case .verified(let who, let bytes): (sender, body) = (who, bytes)
        }
        let command: DataPlaneCommand
        do {
            command = try JSONDecoder().decode(DataPlaneCommand.self, from: Data(body))
        } catch {
            return APIError(.badRequest, "not a data-plane command (verbs: \(DataPlaneCommand.Verb.allCases.map(\.rawValue).joined(separator: ", "))): \(error)").response
        }
        guard let dataPlane else {
            return json(DataPlaneReply(error: StepActionError(
                .invalidParameter, "\(me) is a witness and runs no data plane; send \(command.verb.rawValue) to a member site's agent", retriable: false)))
        }
        logger.info("data-plane command from a peer", metadata: ["from": "\(sender)", "command": "\(command)"])
        return json(await dataPlane.perform(command))
    }
}
