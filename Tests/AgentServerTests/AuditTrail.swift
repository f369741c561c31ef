import AgentServer
import Consensus
import Foundation

/// What the lab's agents wrote to their audit logs (`<data_dir>/audit.jsonl`, see `AuditLog`)
/// since a given time, read from outside the processes, to show which decisions were taken.
///
/// The agents stamp entries with the wall clock of this same machine, so `since` compares like
/// with like. They append asynchronously (queued, then fsynced): read after the stretch being
/// judged, and expect an entry written in the last few milliseconds to be missing.
struct AuditTrail: CustomStringConvertible {
    /// One entry and the host whose agent wrote it.
    struct Line: CustomStringConvertible {
        var host: String
        var entry: AuditEntry

        var description: String { "\(host): [\(entry.kind) e\(entry.epoch)] \(entry.message)" }
    }

    /// Entry kinds that mean the election moved: someone stood, voted, won, stored or committed
    /// a configuration, or a site was promoted (`ElectionHost` writes `promote`).
    static let electionKinds: Set<String> = [
        AuditRecord.Kind.candidacy.rawValue, AuditRecord.Kind.voteGranted.rawValue, AuditRecord.Kind.elected.rawValue,
        AuditRecord.Kind.commitAccepted.rawValue, AuditRecord.Kind.committed.rawValue, "promote",
    ]

    let lines: [Line]

    /// Reads every agent's audit log in `lab`, keeping the entries stamped at or after `since`.
    /// - Throws: when a log that exists cannot be read (an agent that never started has none).
    init(_ lab: SiteLab, since: Date) throws {
        var lines: [Line] = []
        for (host, _) in SiteLab.agents {
            let path = lab.dataDirectory(host).appendingPathComponent("audit.jsonl").path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            lines += try AuditLog.read(path: path).filter { $0.time >= since }.map { Line(host: host, entry: $0) }
        }
        self.lines = lines.sorted { $0.entry.time < $1.entry.time }
    }

    /// The entries of one kind, from every agent.
    func lines(_ kind: AuditRecord.Kind) -> [Line] { lines.filter { $0.entry.kind == kind.rawValue } }

    /// The entries that show the election moving (`electionKinds`).
    var electionMoves: [Line] { lines.filter { Self.electionKinds.contains($0.entry.kind) } }

    /// How many entries of each kind, for the test output.
    var counts: String {
        Dictionary(grouping: lines, by: \.entry.kind).map { "\($0.key) \($0.value.count)" }.sorted().joined(separator: ", ")
    }

    var description: String { lines.map(\.description).joined(separator: "\n") }
}
