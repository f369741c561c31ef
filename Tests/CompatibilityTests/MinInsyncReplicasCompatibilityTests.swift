import Foundation
import Testing
import TestSupport

/// `min.insync.replicas` set through IncrementalAlterConfigs by confluent-kafka (its bundled
/// librdkafka, which has the API librdkafka 2.0.2 lacks): `acks=all` produces are refused with
/// NOT_ENOUGH_REPLICAS while `acks=1` and `acks=0` still land, exactly as on a Kafka topic whose
/// in-sync replica set is smaller than its `min.insync.replicas`.
@Suite(.timeLimit(.minutes(3))) struct MinInsyncReplicasCompatibilityTests {
    struct Summary: Decodable {
        var fencedConfigs: [String: String]
        var fenced: [String: String]
        var restoredConfigs: [String: String]
        var restored: String
        var values: [String]
    }

    @Test func confluentKafkaSeesAcksAllRefusedAndLeaderAcksAccepted() async throws {
        try await withLocalKafka { broker in
            let topic = "min-isr-compat-\(UInt32.random(in: 0...UInt32.max))"
            let suite = PythonSuite(script: "confluent_min_insync.py", module: "confluent_kafka")
            let summary = try await suite.run(against: broker.bootstrapServers, arguments: ["--topic", topic], as: Summary.self)
            #expect(summary.fencedConfigs == ["retention.ms": "3600000", "min.insync.replicas": "2"])
            #expect(summary.fenced == ["all": "NOT_ENOUGH_REPLICAS", "1": "ok", "0": "ok"])
            #expect(summary.restoredConfigs == ["retention.ms": "3600000"])
            #expect(summary.restored == "ok")
            #expect(summary.values == ["fenced-acks-1", "fenced-acks-0", "restored-acks-all"])
        }
    }
}
