import Alerts
import AsyncHTTPClient
import Foundation
import Logging
import SwitchbackConfiguration

/// The agent's side of webhook alerts (DESIGN.md §8): which audit entries page someone, and the
/// dispatcher built from `alerts.webhooks`.
///
/// Every decision already flows through the audit log (election records, promotions, probe
/// transitions), so alerts are derived from its entries: nothing is alerted that is not also
/// in `audit.jsonl`.
public enum AgentAlerts {
    /// The alert for an audit entry, or `nil` for routine steps (votes, candidacies, refusals).
    /// - Parameters:
    ///   - ownSite: this agent's site (`nil` for a witness): what lease and promotion alerts are about.
    ///   - activeSite: the active site after the entry's decision: what a failover alert is about.
    public static func alert(for entry: AuditEntry, ownSite: String?, activeSite: String?) -> Alert? {
        let kind: AlertKind
        let severity: AlertSeverity
        var site = ownSite
        switch entry.kind {
        case "promote": (kind, severity) = (.promoted, .critical)
        // The promotion finished: the failover's own RPO/RTO (records at risk, groups, time).
        case "failoverReport": (kind, severity) = (.promoted, .critical)
        // A returned site's unmirrored records were copied to the active site.
        case "reconciled": (kind, severity) = (.warning, .warning)
        case "committed": (kind, severity, site) = (.failover, .critical, activeSite)
        case "leaseLost": (kind, severity) = (.leaseLost, .critical)
        case "leaseAcquired": (kind, severity) = (.leaseAcquired, .info)
        case "failureDetected": (kind, severity) = (.failureDetected, .warning)
        case "electionAbandoned": (kind, severity) = (.electionAbandoned, .warning)
        case "blocked": (kind, severity) = (.blocked, .warning)
        case "operatorAction": (kind, severity) = (.operatorAction, .info)
        case "warning": (kind, severity) = (.warning, .warning)
        case "stateSaveFailed": (kind, severity) = (.stateSaveFailed, .critical)
        case "probe":
            guard let healthy = entry.healthy else { return nil }
            (kind, severity, site) = healthy ? (.siteUp, .info, entry.site) : (.siteDown, .warning, entry.site)
        default: return nil
        }
        // Every agent reports the same committed failover; one id for all of them lets receivers
        // (and PagerDuty's dedup_key) treat it as one incident rather than one per agent.
        let id = kind == .failover ? AlertID("failover.e\(entry.epoch).\(site ?? "unknown")") : nil
        return Alert(
            id: id, kind: kind, severity: severity, agent: entry.agent, site: site, epoch: entry.epoch, message: entry.message,
            time: entry.time)
    }

    /// The dispatcher for `configuration.alerts`, or `nil` when no webhook is configured.
    /// - Throws: `AgentError` when a webhook is unusable or its outbox cannot be opened.
    static func dispatcher(
        _ configuration: AgentConfiguration, client: HTTPClient, logger: Logger
    ) throws(AgentError) -> AlertDispatcher? {
        guard !configuration.alerts.webhooks.isEmpty else { return nil }
        var deliveries: [WebhookDelivery] = []
        for settings in configuration.alerts.webhooks {
            do throws(AlertError) {
                let endpoint = try WebhookEndpoint(url: settings.url, format: format(settings.format), secret: settings.secret?.revealed())
                let outbox = try AlertOutbox(
                    directory: configuration.dataDirectory + "/alerts/" + endpoint.outboxName, logger: logger)
                deliveries.append(
                    WebhookDelivery(endpoint: endpoint, outbox: outbox, transport: HTTPWebhookTransport(client: client), clock: .continuous, logger: logger))
            } catch {
                throw AgentError("the agent cannot start: alerts.webhooks: \(error)")
            }
        }
        return AlertDispatcher(deliveries: deliveries, logger: logger)
    }

    private static func format(_ format: WebhookSettings.Format) -> WebhookFormat {
        switch format {
        case .generic: .generic
        case .slack: .slack
        case .pagerduty: .pagerduty
        }
    }
}
