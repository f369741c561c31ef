import Foundation
import Testing
import TestSupport

/// Transactions with independent clients: confluent-kafka (its bundled librdkafka) produces
/// committed and aborted transactions, transactional group offsets and a fencing successor;
/// its read_committed consumer sees exactly the committed records, and kcat (Debian's
/// librdkafka 2.0.2) sees the aborted ones too only with `isolation.level=read_uncommitted`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TransactionCompatibilityTests {
    struct Summary: Decodable {
        var committed: [String: [String]]
        var uncommitted: [String: [String]]
        var committedPositions: [String: Int]
        var uncommittedPositions: [String: Int]
        var groupOffsets: [String: Int]
        var fenced: Bool
    }

    static let committed0 = ["c1-0-0", "c1-0-1", "c1-0-2", "plain-0", "c2-0-0", "c2-0-1"]
    static let committed1 = ["c1-1-0", "c1-1-1", "c1-1-2", "plain-1", "c2-1-0", "c2-1-1", "successor"]
    static let uncommitted0 = ["c1-0-0", "c1-0-1", "c1-0-2", "a1-0-0", "a1-0-1", "plain-0", "c2-0-0", "c2-0-1", "a2-0-0"]
    static let uncommitted1 = ["c1-1-0", "c1-1-1", "c1-1-2", "a1-1-0", "a1-1-1", "plain-1", "c2-1-0", "c2-1-1", "fenced", "successor"]

    @Test func confluentKafkaTransactionsReadBackByConfluentKafkaAndKcat() async throws {
        try await withLocalKafka { broker in
            let topic = "txn-compat-\(UInt32.random(in: 0...UInt32.max))"
            let suite = PythonSuite(script: "confluent_transactions.py", module: "confluent_kafka")
            let summary = try await suite.run(against: broker.bootstrapServers, arguments: ["--topic", topic], as: Summary.self)
            #expect(summary.committed == ["0": Self.committed0, "1": Self.committed1])
            #expect(summary.uncommitted == ["0": Self.uncommitted0, "1": Self.uncommitted1])
            // Both views end past the final markers (p0: abort marker at 12, p1: commit marker at 14).
            #expect(summary.committedPositions == ["0": 13, "1": 15])
            #expect(summary.uncommittedPositions == ["0": 13, "1": 15])
            // Offsets sent with the aborted transaction (99) never became visible.
            #expect(summary.groupOffsets == ["0": 3, "1": 4])
            #expect(summary.fenced)

            let uncommitted = try await KcatTests.consume(broker.bootstrapServers, topic, extra: ["-X", "isolation.level=read_uncommitted"])
            #expect(uncommitted.filter { $0.partition == 0 }.map(\.value) == Self.uncommitted0)
            #expect(uncommitted.filter { $0.partition == 1 }.map(\.value) == Self.uncommitted1)
            let committed = try await KcatTests.consume(broker.bootstrapServers, topic, extra: ["-X", "isolation.level=read_committed"])
            #expect(committed.filter { $0.partition == 0 }.map(\.value) == Self.committed0)
            #expect(committed.filter { $0.partition == 1 }.map(\.value) == Self.committed1)
            #expect(committed.filter { $0.partition == 0 }.map(\.offset) == [0, 1, 2, 7, 8, 9])
        }
    }
}
