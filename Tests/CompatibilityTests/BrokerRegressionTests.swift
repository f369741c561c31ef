import Foundation
import KafkaClient
import KafkaWire
import NIOCore
import Testing
import TestSupport

/// Broker bugs the compatibility suite found, each pinned through KafkaClient (librdkafka
/// 2.0.2). The Python suites check the same behaviour with their clients.
@Suite(.timeLimit(.minutes(2))) struct BrokerRegressionTests {
    /// LocalKafka stored batches of `message.timestamp.type=LogAppendTime` topics unchanged, so
    /// consumers reported the producer's CreateTime instead of the broker's append time.
    @Test(arguments: [KafkaProducerConfiguration.Compression.none, .lz4])
    func logAppendTimeTopicsReportTheBrokersAppendTime(compression: KafkaProducerConfiguration.Compression) async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("append-time")
            let created = try await admin.createTopics([
                NewTopic(name: topic, partitions: 1, configs: ["message.timestamp.type": "LogAppendTime"]),
            ])
            try created[topic]?.get()
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let producerTime = KafkaTimestamp(milliseconds: 1_000)
            try await withProducer(broker.bootstrapServers, configure: { $0.compression = compression }) { producer in
                let outcomes = try await producer.send((0..<5).map {
                    ProducerRecord(topic: topic, partition: 0, value: "record-\($0)", timestamp: producerTime)
                })
                for outcome in outcomes { _ = try outcome.get() }
            }
            let after = Int64(Date().timeIntervalSince1970 * 1000)
            let records = try await withConsumer(broker.bootstrapServers) { consumer in
                try await consumer.assign([TopicPartition(topic, 0): .earliest])
                return try await consumer.read(5)
            }
            #expect(records.map(\.valueString) == (0..<5).map { "record-\($0)" })
            for record in records {
                #expect(record.timestampType == .logAppendTime)
                let stamp = try #require(record.timestamp).milliseconds
                // The broker's clock, not the producer's 1 000 ms.
                #expect(stamp >= before - 1_000 && stamp <= after + 1_000, "timestamp \(stamp) outside \(before)...\(after)")
            }
        }
    }

    /// ListOffsets with the MAX_TIMESTAMP spec (-3) was answered as "first record at or after
    /// time -3", i.e. the log start, instead of the record with the greatest timestamp.
    @Test func listOffsetsForTheMaxTimestampFindsTheNewestStampedRecord() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("max-timestamp")
            try await admin.createTopics([NewTopic(name: topic, partitions: 2)])[topic]?.get()
            let stamps: [Int64] = [5_000, 9_000, 7_000, 9_000, 1_000]
            try await withProducer(broker.bootstrapServers) { producer in
                for stamp in stamps {
                    _ = try await producer.send(ProducerRecord(
                        topic: topic, partition: 0, value: "at-\(stamp)", timestamp: KafkaTimestamp(milliseconds: 1_700_000_000_000 + stamp)))
                }
            }
            let p0 = TopicPartition(topic, 0)
            let p1 = TopicPartition(topic, 1)
            let found = try await admin.offsets(forTimes: [p0: KafkaTimestamp(milliseconds: -3), p1: KafkaTimestamp(milliseconds: -3)])
            // The first of the two records stamped 9 000; an empty partition has none.
            #expect(found[p0] == .some(Offset(1)))
            #expect(found[p1] == .some(nil))

            // Records before the log start no longer count.
            _ = try await admin.deleteRecords(before: [p0: 4])
            let afterDeletion = try await admin.offsets(forTimes: [p0: KafkaTimestamp(milliseconds: -3)])
            #expect(afterDeletion[p0] == .some(Offset(4)))
        }
    }
}

/// Stopping LocalKafka while a JoinGroup was parked (a rebalance waiting for a member to
/// rejoin) never finished: the connection waited for the parked request, which only the
/// coordinator's timers or the core's shutdown could answer, and both came after the
/// connections had stopped. Seen when a kafka-python member died mid-rebalance at the end of a
/// test: the whole test process hung. (Fixed on this branch by cancelling parked requests, then
/// on main by `BrokerCore.stopServing()` when the broker is cancelled; this test guards both.)
@Suite(.timeLimit(.minutes(2))) struct BrokerStopTests {
    static let group = "parked-at-stop"

    static func join(memberID: String = "") -> KafkaRequest {
        .joinGroup(JoinGroupRequest(
            groupId: group, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 300_000, memberId: memberID,
            protocolType: "consumer", protocols: [.init(name: "range", metadata: ByteBuffer(bytes: [0, 1]))]))
    }

    @Test func stopsWhileAJoinGroupIsParked() async throws {
        let stopped = Flag()
        // The broker's lifetime runs in its own task, so a hang fails this test at the deadline
        // below instead of keeping the test (and the test process) from ever ending.
        let lifetime = Task {
            try await withLocalKafka { broker in
                try await RawKafkaConnection.with(broker.bootstrapServers) { first in
                    // Member 1 joins and syncs: the group is stable.
                    guard case .joinGroup(let joined) = try await first.call(Self.join(), .joinGroup, version: 1) else {
                        throw UnexpectedAnswer("JoinGroup answered with another API")
                    }
                    #expect(joined.errorCode == 0)
                    let sync = KafkaRequest.syncGroup(SyncGroupRequest(
                        groupId: Self.group, generationId: joined.generationId, memberId: joined.memberId,
                        assignments: [.init(memberId: joined.memberId, assignment: ByteBuffer(bytes: [0]))]))
                    guard case .syncGroup(let synced) = try await first.call(sync, .syncGroup, version: 1) else {
                        throw UnexpectedAnswer("SyncGroup answered with another API")
                    }
                    #expect(synced.errorCode == 0)

                    // Member 2's join starts a rebalance that waits for member 1 to rejoin: parked.
                    try await RawKafkaConnection.with(broker.bootstrapServers) { second in
                        try await second.send(Self.join(), .joinGroup, version: 1)
                        try await eventually("the group to wait for its rebalance") {
                            guard case .describeGroups(let described) = try await first.call(
                                .describeGroups(DescribeGroupsRequest(groups: [Self.group])), .describeGroups, version: 0)
                            else { return false }
                            return described.groups.first?.groupState == "PreparingRebalance"
                        }
                    }
                }
            }
            // withLocalKafka stopped the broker: reaching here is the point of the test.
            stopped.set()
        }
        try await eventually(within: .seconds(60), "the broker to stop with a JoinGroup parked") { stopped.isSet }
        try await lifetime.value
    }
}

/// `validateOnly` CreateTopics, AlterConfigs and IncrementalAlterConfigs checked only that the
/// topic existed (or not), so a dry run approved values the real call refuses, e.g.
/// confluent-kafka's `incremental_alter_configs(..., validate_only=True)` with
/// `retention.ms=abc`.
@Suite(.timeLimit(.minutes(1))) struct ValidateOnlyTests {
    static let invalidConfig: Int16 = 40

    @Test func dryRunsRefuseWhatTheRealCallRefusesAndChangeNothing() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("dry-run")
            try await admin.createTopics([NewTopic(name: topic, partitions: 1)])[topic]?.get()
            let absent = uniqueTopic("never-created")

            try await RawKafkaConnection.with(broker.bootstrapServers) { connection in
                let badCreate = KafkaRequest.createTopics(CreateTopicsRequest(
                    topics: [.init(name: absent.rawValue, numPartitions: 1, replicationFactor: 1,
                                   configs: [.init(name: "retention.ms", value: "abc")])],
                    validateOnly: true))
                guard case .createTopics(let created) = try await connection.call(badCreate, .createTopics, version: 4) else {
                    throw UnexpectedAnswer("CreateTopics answered with another API")
                }
                #expect(created.topics.map(\.errorCode) == [Self.invalidConfig])

                let badIncremental = KafkaRequest.incrementalAlterConfigs(IncrementalAlterConfigsRequest(
                    resources: [.init(resourceType: 2, resourceName: topic.rawValue,
                                      configs: [.init(name: "retention.ms", configOperation: 0, value: "abc")])],
                    validateOnly: true))
                guard case .incrementalAlterConfigs(let incremental) = try await connection.call(
                    badIncremental, .incrementalAlterConfigs, version: 0)
                else { throw UnexpectedAnswer("IncrementalAlterConfigs answered with another API") }
                #expect(incremental.responses.map(\.errorCode) == [Self.invalidConfig])

                let badReplace = KafkaRequest.alterConfigs(AlterConfigsRequest(
                    resources: [.init(resourceType: 2, resourceName: topic.rawValue,
                                      configs: [.init(name: "cleanup.policy", value: "shred")])],
                    validateOnly: true))
                guard case .alterConfigs(let replaced) = try await connection.call(badReplace, .alterConfigs, version: 1) else {
                    throw UnexpectedAnswer("AlterConfigs answered with another API")
                }
                #expect(replaced.responses.map(\.errorCode) == [Self.invalidConfig])

                // A valid dry run is approved and changes nothing.
                let goodIncremental = KafkaRequest.incrementalAlterConfigs(IncrementalAlterConfigsRequest(
                    resources: [.init(resourceType: 2, resourceName: topic.rawValue,
                                      configs: [.init(name: "retention.ms", configOperation: 0, value: "60000")])],
                    validateOnly: true))
                guard case .incrementalAlterConfigs(let approved) = try await connection.call(
                    goodIncremental, .incrementalAlterConfigs, version: 0)
                else { throw UnexpectedAnswer("IncrementalAlterConfigs answered with another API") }
                #expect(approved.responses.map(\.errorCode) == [0])
            }
            let configs = try #require(try await admin.describeTopicConfigs([topic])[topic]).get()
            #expect(configs.first { $0.name == "retention.ms" }?.isDefault == true)
            #expect(try await admin.listTopics()[absent] == nil)
        }
    }
}
