import KafkaClient
import Synchronization
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct RoundTripTests {
    @Test func aCleanRoundTripReportsEveryRecordAndTheCommittedEnd() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 3)
            let steps = Mutex<[String]>([])
            let roundTrip = KafkaRoundTrip(
                bootstrapServers: cluster.bootstrapServers, topic: topic, partitions: 3, records: 2_500,
                group: GroupID("rt-\(topic)"), timeout: .seconds(30))
            let report = try await roundTrip.run { progress in
                steps.withLock { $0.append("\(progress)") }
            }
            #expect(report.problems == [])
            #expect(report.succeeded)
            #expect(report.records == 2_500)
            #expect(report.committed == report.endOffsets)
            #expect(report.committed.values.reduce(0) { $0 + $1.rawValue } == 2_500)
            #expect(steps.withLock { $0.contains { $0.hasPrefix("produced(2500") } })
            #expect(steps.withLock { $0.contains { $0.hasPrefix("consumed(2500") } })
        }
    }

    @Test func recordsThatNeverComeBackAreReported() async throws {
        try await withMockCluster { cluster in
            // Given no time to read, the round trip must say the records did not come back
            // rather than report success.
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            let roundTrip = KafkaRoundTrip(
                bootstrapServers: cluster.bootstrapServers, topic: topic, partitions: 1, records: 10,
                group: GroupID("rt-\(topic)"), timeout: .zero)
            let report = try await roundTrip.run()
            #expect(!report.succeeded)
            #expect(report.problems.contains { $0.contains("of 10 records came back") })
        }
    }
}
