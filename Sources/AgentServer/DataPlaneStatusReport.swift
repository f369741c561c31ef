import Foundation
import Orchestrator

/// The data plane in `/v1/status` (issue 9 item 9): each flow's direction, state and lag, the
/// groups' checkpoint age, the promotion in progress and its step, the last failover's report.
public struct DataPlaneStatusReport: Codable, Sendable, Hashable {
    /// `serving`, `following`, `promoting` or `switching`, with the epoch.
    public var phase: String
    /// The promotion's step while one runs.
    public var promotionStep: String?
    public var flows: [FlowSupervisor.FlowReport]
    /// The newest completed failover's RPO/RTO report.
    public var lastFailover: FailoverReport?
    /// The newest reconcile this agent ran, with its per-partition counts.
    public var lastReconcile: ReconcileReport?

    public init(_ dataPlane: DataPlane) {
        let snapshot = dataPlane.snapshot
        phase = "\(snapshot.phase)"
        if case .promoting(_, let step) = snapshot.phase { promotionStep = step.rawValue }
        flows = dataPlane.supervisor.reports()
        lastFailover = snapshot.lastFailover
        lastReconcile = snapshot.lastReconcile
    }
}
