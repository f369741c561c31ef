import Consensus
import Foundation
import KafkaClient
import Orchestrator
import Sites
import Testing

/// `__switchback_state` on a real LocalKafka through librdkafka: the newest epoch is kept per
/// cluster, an older one is refused, and a stale record that slips in cannot move it back.
@Suite(.serialized, .timeLimit(.minutes(2))) struct SiteStateTopicTests {
    static func config(_ epoch: UInt64, active: SiteID = FencingLab.b) -> SiteConfig {
        SiteConfig(epoch: Epoch(epoch), activeSite: active,
                   mirrorDirection: MirrorDirection(from: active, to: active == FencingLab.a ? FencingLab.b : FencingLab.a),
                   cause: .automaticFailover)
    }

    @Test func recordsTheNewestEpochAndRefusesAnOlderOne() async throws {
        try await withFencingLab { lab in
            let state = lab.state()
            let cluster = lab.endpoint(FencingLab.a)
            #expect(try await state.read(on: cluster) == nil)
            #expect(try await lab.admin(FencingLab.a).listTopics()[SiteStateTopic.name] == nil, "a read created the topic")

            try await state.record(Self.config(3), on: cluster)
            // Created on the first write: compacted, one partition.
            let topics = try await lab.admin(FencingLab.a).listTopics()
            #expect(topics[SiteStateTopic.name]?.partitions.count == 1)
            #expect(try await lab.dynamicConfigs(SiteStateTopic.name.rawValue, at: FencingLab.a)["cleanup.policy"] == "compact")
            #expect(try await state.read(on: cluster) == Self.config(3))
            let marks = try await lab.admin(FencingLab.a).watermarks(of: SiteStateTopic.partitionZero)

            // Recording the same configuration again writes nothing.
            try await state.record(Self.config(3), on: cluster)
            #expect(try await lab.admin(FencingLab.a).watermarks(of: SiteStateTopic.partitionZero) == marks)

            do {
                try await state.record(Self.config(2, active: FencingLab.a), on: cluster)
                Issue.record("an older epoch was recorded")
            } catch let error as FencingError {
                #expect(error.code == .staleEpoch)
                #expect(error.stale == StaleEpoch(action: "recording \(Self.config(2, active: FencingLab.a)) on dc-a", epoch: Epoch(2), newest: Epoch(3)))
            }
            do {
                try await state.record(Self.config(3, active: FencingLab.a), on: cluster)
                Issue.record("a second configuration for one epoch was recorded")
            } catch let error as FencingError {
                #expect(error.code == .malformedState)
            }
            try await state.admit(Epoch(3), action: "checkpoint", on: cluster)
            await #expect(throws: FencingError.self) { try await state.admit(Epoch(2), action: "checkpoint", on: cluster) }
            try await state.record(Self.config(4, active: FencingLab.a), on: cluster)
            #expect(try await state.read(on: cluster) == Self.config(4, active: FencingLab.a))
            // The other cluster keeps its own record.
            #expect(try await state.read(on: lab.endpoint(FencingLab.b)) == nil)
        }
    }

    /// The race the check before writing cannot close: a stale agent's record lands after the
    /// newer one. Readers take the highest epoch, so nothing moves back.
    @Test func aStaleRecordWrittenLastDoesNotMoveTheEpochBack() async throws {
        try await withFencingLab { lab in
            let state = lab.state()
            let cluster = lab.endpoint(FencingLab.a)
            try await state.record(Self.config(7), on: cluster)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let stale = ClusterEpochRecord(config: Self.config(6, active: FencingLab.a), recordedBy: FencingLab.a)
            try await Self.writeRaw(key: "epoch/00000000000000000006", value: Array(try encoder.encode(stale)), at: lab)
            // Hostile bytes are skipped, not fatal.
            try await Self.writeRaw(key: "epoch/00000000000000000099", value: Array("not json".utf8), at: lab)
            #expect(try await state.read(on: cluster) == Self.config(7))
            #expect(try await state.readState(on: cluster).newestEpoch == Epoch(7))
        }
    }

    static func writeRaw(key: String, value: [UInt8], at lab: FencingLab) async throws {
        let producer = try lab.producer(at: FencingLab.a, acks: .all)
        _ = try await producer.send(ProducerRecord(topic: SiteStateTopic.name, partition: 0, key: Array(key.utf8), value: value))
        await producer.shutdown()
    }
}

extension SiteStateTopic {
    static var partitionZero: KafkaClient.TopicPartition { KafkaClient.TopicPartition(name, 0) }
}
