import Foundation
import NIOCore

/// The transaction coordinator's state on disk: `transactions.json` in the data directory,
/// replaced atomically on every phase change (the role `__transaction_state` plays in Kafka).
///
/// What it buys across a restart: a transactional id keeps its producer id, a producer fenced
/// before the restart stays fenced, and a transaction caught preparing is completed the way it
/// was decided rather than guessed from the partitions.
struct TransactionStateFile {
    let path: String

    init(dataDirectory: URL) {
        path = dataDirectory.path + "/transactions.json"
    }

    private struct Entry: Codable {
        var transactionalId: TransactionalID
        var metadata: TransactionMetadata
    }

    func load() throws(StorageError) -> [TransactionalID: TransactionMetadata] {
        guard let bytes = try DataDirectory.read(path) else { return [:] }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(bytes.readableBytesView))
        } catch {
            throw StorageError(.corruptMetadata(path: path), "transaction state \(path) cannot be read: \(error); move it away to start with no transactional ids")
        }
        return Dictionary(entries.map { ($0.transactionalId, $0.metadata) }, uniquingKeysWith: { _, last in last })
    }

    func write(_ transactions: [TransactionalID: TransactionMetadata]) throws(StorageError) {
        let entries = transactions.sorted { $0.key < $1.key }.map { Entry(transactionalId: $0.key, metadata: $0.value) }
        let data: Data
        do {
            data = try JSONEncoder().encode(entries)
        } catch {
            throw StorageError(.corruptMetadata(path: path), "could not encode the transaction state: \(error)")
        }
        try DataDirectory.writeAtomically(ByteBuffer(bytes: data), to: path)
    }
}
