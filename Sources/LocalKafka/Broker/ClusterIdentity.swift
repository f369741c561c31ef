import Foundation

/// The cluster id a broker reports in Metadata, kept in the data directory so it survives
/// restarts (clients and the agents compare it to notice a different cluster behind an address).
enum ClusterIdentity {
    static let fileName = "cluster.id"

    static func loadOrCreate(in directory: URL) throws -> String {
        let file = directory.appendingPathComponent(fileName)
        if let existing = try? String(contentsOf: file, encoding: .utf8) {
            let id = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if !id.isEmpty { return id }
        }
        let id = "localkafka-" + UUID().uuidString.lowercased().prefix(8)
        do {
            try Data((id + "\n").utf8).write(to: file, options: .atomic)
        } catch {
            throw BrokerError(.storage, "cannot write \(file.path): \(error). Check that the data directory is writable.")
        }
        return id
    }
}
