import Consensus
import Foundation

/// The last configuration the data plane acted on, and whether this site finished serving in
/// it: what a restarted agent must not do twice (see ``DataPlane``).
struct DataPlaneRecord: Codable, Hashable, Sendable {
    var config: SiteConfig
    /// The epoch whose promotion finished here (`nil`: this site is not, or not yet, serving).
    var served: Epoch?
    /// Flows decided for `config` that did not start yet (see ``FlowPlan/changes(running:previous:config:pending:)``):
    /// kept here so a restarted agent still reconciles its returned site before the reverse
    /// flow writes into it. Absent from records written before it existed.
    var pendingStarts: [FlowStart]?
}

/// `<data_dir>/dataplane.json`, replaced atomically and fsynced.
struct DataPlaneRecordFile: Sendable {
    let path: String

    init(directory: String) {
        path = URL(fileURLWithPath: directory).appendingPathComponent("dataplane.json").path
    }

    /// The stored record, `nil` when there is none yet.
    /// - Throws: when the file exists but is unreadable (the caller starts from the initial configuration).
    func load() throws -> DataPlaneRecord? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try JSONDecoder().decode(DataPlaneRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func save(_ record: DataPlaneRecord) throws {
        let data = try JSONEncoder().encode(record)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    }
}
