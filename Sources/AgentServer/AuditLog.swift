import Consensus
import DurableFiles
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of `audit.jsonl`.
public struct AuditEntry: Codable, Hashable, Sendable {
    /// Wall-clock time of the decision (ISO 8601, UTC), for people correlating with other logs.
    public var time: Date
    public var agent: String
    public var epoch: UInt64
    /// The election's record kind (`voteGranted`, `committed`, …) or `probe` for a cluster
    /// health transition.
    public var kind: String
    public var message: String
    /// For probe transitions: the site and its new health.
    public var site: String?
    public var healthy: Bool?

    public init(time: Date, agent: String, epoch: UInt64, kind: String, message: String, site: String? = nil, healthy: Bool? = nil) {
        self.time = time
        self.agent = agent
        self.epoch = epoch
        self.kind = kind
        self.message = message
        self.site = site
        self.healthy = healthy
    }
}

/// The append-only audit log (`<data_dir>/audit.jsonl`): every vote, commit, lease change,
/// operator action and probe transition, one JSON object per line.
///
/// Durability policy: each entry is written with a single `write(2)` on an `O_APPEND`
/// descriptor and then fsynced, on a serial queue of its own, in the order entries were
/// recorded. The election never waits for it (the election state file is what safety rests
/// on); a crash can lose at most the entries still queued, never reorder or tear earlier ones.
/// A torn last line after a power loss is possible and is the only malformed line readers
/// should expect.
public final class AuditLog: Sendable {
    public let path: String
    private let descriptor: Int32
    private let io = BlockingIO(label: "switchback.audit")
    /// Sees every entry as it is appended (the agent turns them into alerts); must not block.
    private let observer: (@Sendable (AuditEntry) -> Void)?
    private let logger: Logger

    /// Opens (creating if needed) `audit.jsonl` in `directory`.
    /// - Parameter observer: called with each entry, in order, on the appending task.
    /// - Throws: `AgentError` when the file cannot be opened for appending.
    public init(directory: String, observer: (@Sendable (AuditEntry) -> Void)? = nil, logger: Logger = Logger(label: "switchback.audit")) throws(AgentError) {
        self.logger = logger
        self.observer = observer
        path = directory + "/audit.jsonl"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw AgentError(
                "cannot open the audit log \(path): \(String(cString: strerror(errno))); check that data_dir exists and is writable")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Queues `entry` for appending and fsync.
    public func append(_ entry: AuditEntry) {
        observer?(entry)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.timestamp(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        let fd = descriptor
        let path = path
        let logger = logger
        let bytes = [UInt8](line)
        io.submit {
            // An audit line that cannot be written must not stop the agent's work, but the
            // operator must learn that the audit trail has a hole.
            do {
                try DurableFile.writeAllAndSync(fd, bytes)
            } catch {
                logger.error("cannot append to the audit log; check free space on the data_dir disk", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }

    /// Waits until every entry appended so far is on disk (tests, shutdown).
    public func flush() async {
        await io.run { () -> Void in }
    }

    /// ISO 8601 in UTC with milliseconds: decisions within one second must stay ordered for
    /// people reading the log.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Every entry in the file, skipping a torn last line.
    public static func read(path: String) throws -> [AuditEntry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
            }
            return date
        }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(AuditEntry.self, from: Data($0)) }
    }
}
