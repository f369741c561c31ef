import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchbackConfiguration

/// `GET /`: the agent's status as one HTML page for people (DESIGN.md §8) — the sites, the
/// active site and epoch, the flows and their lag, the groups' checkpoint age, the runbook in
/// progress and a timeline of the last failovers from the audit log.
///
/// The page is built from the `/v1/status` report and the audit log only, read as loose JSON:
/// sections whose fields this agent does not report yet show "—" and fill in once the agent
/// reports them. Every value is HTML-escaped; the page loads nothing from elsewhere (a
/// content security policy forbids it) and refreshes itself every 2 s.
struct StatusPage: Sendable {
    let access: StatusPageAccess
    let auditPath: String
    let operatorToken: Secret

    init(configuration: AgentConfiguration) {
        access = configuration.statusPage
        auditPath = configuration.dataDirectory + "/audit.jsonl"
        operatorToken = configuration.auth.operatorToken
    }

    /// The page, or 401 asking for the token as a basic-authentication password.
    func response(_ request: Request, report: AgentStatusReport) -> Response {
        guard access == .public || isAuthorized(request.headers[.authorization]) else {
            return Response(
                status: .unauthorized,
                headers: [.wwwAuthenticate: #"Basic realm="switchback agent (password: the operator token)""#, .contentType: "text/plain"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "status page: send the operator token (bearer, or as the basic-authentication password)\n")))
        }
        let audit = ((try? AuditLog.read(path: auditPath)) ?? []).suffix(Self.timelineLength)
        let html = Self.render(report: report, audit: Array(audit), now: Date())
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
                .cacheControl: "no-store",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// Audit entries shown in the timeline.
    static let timelineLength = 40

    /// Bearer token, or basic authentication whose password is the token (what a browser can
    /// send); compared in constant time.
    func isAuthorized(_ header: String?) -> Bool {
        guard let header else { return false }
        let given: String
        if header.hasPrefix("Bearer ") {
            given = String(header.dropFirst("Bearer ".count))
        } else if header.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(header.dropFirst("Basic ".count))),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            given = String(pair[pair.index(after: colon)...])
        } else {
            return false
        }
        let left = Array(given.utf8)
        let right = Array(operatorToken.revealed().utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<min(left.count, right.count) { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    // MARK: - Rendering

    static func render(report: AgentStatusReport, audit: [AuditEntry], now: Date) -> String {
        let status = LooseJSON.of(report).object
        let active = status["active"]?.object ?? [:]
        var body = "<h1>switchback agent <span id=\"agent\">\(escape(report.agent))</span> (\(escape(report.role)))</h1>\n"
        body += "<p class=\"muted\">as of \(escape(iso(now))) — refreshes every 2 s</p>\n"
        body += "<section><h2>Active site</h2><table>"
            + row("active site", "<strong id=\"active-site\">\(escape(text(active["activeSite"])))</strong>", raw: true)
            + row("epoch", "<span id=\"epoch\">\(escape(text(active["epoch"])))</span>", raw: true)
            + row("sidecar state", text(active["state"]))
            + row("serving here", text(active["servingHere"]))
            + row("mirror", "\(text(active["mirrorFrom"])) → \(text(active["mirrorTo"]))")
            + row("since", text(active["since"]))
            + "</table></section>\n"
        body += sites(status)
        body += section("Flows", id: "flows", status["flows"])
        body += section("Groups' checkpoint age", id: "checkpoints", status["checkpoints"] ?? status["groups"])
        body += section("Runbook in progress", id: "runbook", status["runbook"])
        body += section("Last reconcile", id: "reconcile", status["reconcile"])
        body += timeline(audit)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
            <title>switchback — \(escape(report.agent)) — \(escape(text(active["activeSite"]))) e\(escape(text(active["epoch"])))</title>
            <style>
            body { font: 15px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #fdfdfb; }
            h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 20px 0 6px; }
            table { border-collapse: collapse; } td, th { border: 1px solid #c9ccd3; padding: 3px 9px; text-align: left; vertical-align: top; }
            th { background: #e8ebf2; } .muted { color: #667; } .down { color: #b00020; font-weight: bold; } .up { color: #116b2e; }
            strong#active-site { font-size: 20px; }
            </style></head>
            <body>
            \(body)</body></html>

            """
    }

    static func sites(_ status: [String: LooseJSON]) -> String {
        let views = status["election"]?.object["sites"]?.list.map(\.object) ?? []
        let probes = status["probes"]?.object ?? [:]
        guard !views.isEmpty else { return "<section id=\"sites\"><h2>Sites</h2><p>—</p></section>\n" }
        var html = "<section id=\"sites\"><h2>Sites</h2><table><tr><th>site</th><th>cluster</th><th>probe</th><th>seen down by</th></tr>"
        for view in views {
            let site = text(view["site"])
            let probe = probes[site]?.object
            let down = view["subjectivelyDown"] == .bool(true)
            let health = down ? "<span class=\"down\">down</span>" : "<span class=\"up\">up</span>"
            let probeText = probe.map { "\(text($0["latencyMilliseconds"])) ms" + ($0["failure"].map { " — \(text($0))" } ?? "") } ?? "—"
            let seenBy = (view["seenDownBy"]?.list ?? []).map { text($0) }.joined(separator: ", ")
            html += "<tr><td>\(escape(site))</td><td>\(health)</td><td>\(escape(probeText))</td><td>\(escape(seenBy.isEmpty ? "—" : seenBy))</td></tr>"
        }
        return html + "</table></section>\n"
    }

    /// A table of whatever the report holds under a key: a list of objects (one row each), an
    /// object (one row per field), or "—" when the agent does not report it.
    static func section(_ title: String, id: String, _ value: LooseJSON?) -> String {
        var html = "<section id=\"\(id)\"><h2>\(escape(title))</h2>"
        switch value {
        case .list(let items) where !items.isEmpty && items.allSatisfy({ if case .object = $0 { true } else { false } }):
            let rows = items.map(\.object)
            let keys = Array(Set(rows.flatMap(\.keys))).sorted()
            html += "<table><tr>" + keys.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            for item in rows { html += "<tr>" + keys.map { "<td>\(escape(text(item[$0])))</td>" }.joined() + "</tr>" }
            html += "</table>"
        case .object(let object) where !object.isEmpty:
            html += "<table>" + object.keys.sorted().map { row($0, text(object[$0])) }.joined() + "</table>"
        default:
            html += "<p>—</p>"
        }
        return html + "</section>\n"
    }

    /// The last audit entries, newest first, each with its time after the fault that opened
    /// its failover (the first failed probe after the previous commit).
    static func timeline(_ audit: [AuditEntry]) -> String {
        guard !audit.isEmpty else { return "<section id=\"timeline\"><h2>Timeline</h2><p>—</p></section>\n" }
        var faultAt: Date?
        var rows: [String] = []
        for entry in audit {
            if entry.kind == "probe", entry.healthy == false, faultAt == nil { faultAt = entry.time }
            let since = faultAt.map { String(format: "+%.1f s", entry.time.timeIntervalSince($0)) } ?? ""
            let isCommit = entry.kind.lowercased().contains("commit")
            rows.append(
                "<tr\(isCommit ? " class=\"commit\"" : "")><td>\(escape(iso(entry.time)))</td><td>\(escape(since))</td><td>\(escape(entry.agent))</td>"
                    + "<td>epoch \(entry.epoch)</td><td>\(escape(entry.kind))</td><td>\(escape(entry.message))</td></tr>")
            if isCommit { faultAt = nil }
        }
        return "<section id=\"timeline\"><h2>Timeline</h2><table><tr><th>time</th><th>after fault</th><th>agent</th><th>epoch</th><th>event</th><th>detail</th></tr>"
            + rows.reversed().joined() + "</table></section>\n"
    }

    static func row(_ name: String, _ value: String, raw: Bool = false) -> String {
        "<tr><th>\(escape(name))</th><td>\(raw ? value : escape(value))</td></tr>"
    }

    /// A JSON value as text: "—" for absent or null, lists joined, `Duration`s ([s, as]) in seconds.
    static func text(_ value: LooseJSON?) -> String {
        switch value {
        case nil, .null?: return "—"
        case .string(let string)?: return string
        case .bool(let flag)?: return flag ? "yes" : "no"
        case .number(let number)?: return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .list(let list)?:
            if list.count == 2, case .number(let seconds) = list[0], case .number(let attoseconds) = list[1], (0..<1e18).contains(attoseconds) {
                return String(format: "%.1f s", seconds + attoseconds / 1e18)
            }
            return list.isEmpty ? "—" : list.map { text($0) }.joined(separator: ", ")
        case .object(let object)?:
            return object.keys.sorted().map { "\($0): \(text(object[$0]))" }.joined(separator: "; ")
        }
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    /// HTML-escapes text for element content and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

/// Any JSON value: the status report read without a fixed type, so the page shows fields
/// added to `/v1/status` after it was written.
enum LooseJSON: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([LooseJSON])
    case object([String: LooseJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let list = try? container.decode([LooseJSON].self) {
            self = .list(list)
        } else {
            self = .object(try container.decode([String: LooseJSON].self))
        }
    }

    /// `value` encoded as JSON (ISO 8601 dates) and read back loosely; `.null` if it cannot be.
    static func of<T: Encodable>(_ value: T) -> LooseJSON {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value), let loose = try? JSONDecoder().decode(LooseJSON.self, from: data) else { return .null }
        return loose
    }

    var object: [String: LooseJSON] { if case .object(let object) = self { object } else { [:] } }
    var list: [LooseJSON] { if case .list(let list) = self { list } else { [] } }
}
