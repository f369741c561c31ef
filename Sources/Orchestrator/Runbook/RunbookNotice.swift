import Consensus
import Foundation

/// What the engine tells the outside world about a run: every step's start and end becomes an
/// audit entry, and the notices marked ``alert`` also an alert (the agent maps both onto its
/// `AuditLog` and alert outbox; the engine does not depend on either).
public struct RunbookNotice: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case runStarted, runResumed, stepStarted, stepSucceeded, stepFailed, stepSkipped
        case confirmationNeeded, confirmed, runFinished, notify
    }

    public enum Severity: String, Sendable, Hashable, Codable, CaseIterable {
        case info, warning, critical
    }

    public var time: Date
    public var runID: String
    public var runbook: String
    public var step: String?
    public var kind: Kind
    public var epoch: Epoch
    public var message: String
    public var severity: Severity
    /// Also send it as an alert, not only to the audit log.
    public var alert: Bool

    public init(time: Date = Date(), runID: String, runbook: String, step: String?, kind: Kind, epoch: Epoch, message: String, severity: Severity = .info, alert: Bool = false) {
        self.time = time
        self.runID = runID
        self.runbook = runbook
        self.step = step
        self.kind = kind
        self.epoch = epoch
        self.message = message
        self.severity = severity
        self.alert = alert
    }
}

/// Where notices go. Must not block (the audit log queues its writes).
public typealias RunbookNoticeSink = @Sendable (RunbookNotice) -> Void
