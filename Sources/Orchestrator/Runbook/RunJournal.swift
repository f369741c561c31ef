import DurableFiles
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A run's journal: `<data_dir>/runbooks/<run-id>.jsonl`, one ``RunEvent`` per line, append-only.
///
/// - Important: ``append(_:)`` returns only after the line is fsynced (and, for the first
///   line, the directory entry too), and the engine calls it before the event takes effect:
///   a step's start is on disk before its action is called, its end before the next step
///   begins. A crash can therefore leave at most a torn last line, which never took effect and
///   is dropped on reading. The calls block on disk I/O; the runner makes them from its own
///   serial executor, off the cooperative pool's hot paths, one at a time.
public final class RunJournal: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Creates the journal of a new run, or opens an existing one to go on appending.
    /// - Throws: ``RunbookError`` (`journal`) when the file cannot be created or opened.
    public init(path: String) throws(RunbookError) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RunbookError(.journal, "cannot create the runbook journal directory \(directory): \(error.localizedDescription); check that data_dir is writable")
        }
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw RunbookError(.journal, "cannot open the runbook journal \(path): \(String(cString: strerror(errno))); check that data_dir is writable")
        }
        descriptor = fd
        // A new journal's directory entry is what a crash right after creating it would lose.
        if !existed { try? DurableFile.syncDirectory(directory) }
    }

    deinit { close(descriptor) }

    /// Appends `event` durably.
    /// - Throws: ``RunbookError`` (`journal`) when it cannot be written and fsynced: the engine
    ///   then stops the run rather than act on a step it could not record.
    public func append(_ event: RunEvent) throws(RunbookError) {
        var line: Data
        do {
            line = try Self.encoder.encode(event)
        } catch {
            throw RunbookError(.journal, "cannot encode a journal entry of \(path): \(error)")
        }
        line.append(UInt8(ascii: "\n"))
        do {
            try DurableFile.writeAllAndSync(descriptor, line)
        } catch {
            throw RunbookError(.journal, "cannot write the runbook journal \(path): \(error.reason); check free space on the data_dir disk")
        }
    }

    /// The events of the journal at `path`. A last line that does not decode is a write torn by
    /// a crash (it never took effect) and is dropped.
    /// - Throws: ``RunbookError`` (`journal`) for an unreadable file or a damaged line before the last.
    public static func read(path: String) throws(RunbookError) -> [RunEvent] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RunbookError(.journal, "cannot read the runbook journal \(path): \(error.localizedDescription)")
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var events: [RunEvent] = []
        for (index, line) in lines.enumerated() {
            do {
                events.append(try decoder.decode(RunEvent.self, from: Data(line)))
            } catch {
                if index == lines.count - 1 { break }
                throw RunbookError(
                    .journal, "the runbook journal \(path) is damaged at line \(index + 1): \(error); move the file aside to start afresh (the run's steps then need checking by hand)")
            }
        }
        return events
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
