import Testing
import TestSupport

/// confluent-kafka (its own bundled librdkafka 2.16) and kafka-python (its own protocol code)
/// against a fresh LocalKafka each: producer, consumer groups with a rebalance, and the admin
/// calls LocalKafka serves. The scripts assert too; these tests check what they read back.
/// Serialized: each script starts several client processes, which is load enough at once.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PythonClientTests {
    @Test func confluentKafkaProducerGroupsAndAdmin() async throws {
        let summary = try await withLocalKafka { broker in
            try await PythonSuite.confluentKafka.run(against: broker.bootstrapServers, as: ConfluentSummary.self)
        }
        #expect(summary.failures == nil)

        let producer = try #require(summary.producer)
        #expect(producer.delivered == 20)
        #expect(producer.offsets == Array(0..<20))
        #expect(producer.readBack == 20)
        #expect(producer.first == .init(key: "k0", value: "v0", headers: ["h": "x0"], offset: 0))
        #expect(producer.last == .init(key: "k19", value: "v19", headers: ["h": "x19"], offset: 19))

        #expect(summary.logAppendTime?.type == "LogAppendTime")
        #expect(summary.logAppendTime?.producerTimestampReplaced == true)

        let group = try #require(summary.group)
        #expect(group.alone == [0, 1, 2, 3])
        let first = try #require(group.afterJoin["member-1"])
        let second = try #require(group.afterJoin["member-2"])
        #expect(first.count == 2 && second.count == 2)
        #expect(Set(first).union(second) == [0, 1, 2, 3])
        #expect(group.afterLeave == [0, 1, 2, 3])
        // 40 before the leader left, then one more per partition, read once from the commit on.
        #expect(group.consumed == 44)
        #expect(group.afterCommit == [[0, 10], [1, 10], [2, 10], [3, 10]])
        #expect(group.committed == ["0": 10, "1": 10, "2": 10, "3": 10])

        let cooperative = try #require(summary.cooperativeGroup)
        #expect(cooperative.afterJoin.count == 2)
        #expect(cooperative.afterLeave == [0, 1, 2, 3])
        let staticMembers = try #require(summary.staticMembership)
        #expect(staticMembers.kept.count == 2)
        #expect(staticMembers.restartedGot.count == 2 && Set(staticMembers.kept).isDisjoint(with: staticMembers.restartedGot))
        #expect(!staticMembers.otherDisturbed)
        let crash = try #require(summary.memberCrash)
        #expect(crash.split.count == 1)
        #expect(crash.afterCrash == [0, 1])

        let admin = try #require(summary.admin)
        #expect(admin.deletedTopicGone)
        #expect(admin.partitionsAfterGrow == 3)
        #expect(admin.incrementalAltered == [
            "retention.ms": "7200000", "retention.bytes": "1048576", "cleanup.policy": "compact",
            "min.insync.replicas": "1", "max.message.bytes": "2097152",
        ])
        #expect(admin.afterDeleteAppend == ["retention.bytes": "-1", "cleanup.policy": "compact,delete"])
        #expect(admin.afterAlter == ["retention.ms": "60000", "cleanup.policy": "delete"])
        #expect(admin.validateOnly == ["bad": "INVALID_CONFIG", "good": "ok"])
        #expect(admin.listOffsets == .init(earliest: 0, latest: 10, byTimestamp: 5, maxTimestamp: 10))
        #expect(admin.deleteRecords == .init(lowWatermark: 4, earliestAfter: 4))
        #expect(admin.listedGroup)
        #expect(admin.describedGroup == .init(state: "STABLE", members: 1, assignment: [0, 1, 2], assignor: "range"))
        #expect(admin.groupOffsets == .init(listed: 7, altered: ["0": 9, "1": 3]))
        #expect(summary.client["librdkafka"]?.hasPrefix("2.16") == true)
    }

    @Test func kafkaPythonProducerConsumerGroupCommitAndAdmin() async throws {
        let summary = try await withLocalKafka { broker in
            try await PythonSuite.kafkaPython.run(against: broker.bootstrapServers, as: KafkaPythonSummary.self)
        }
        #expect(summary.failures == nil)
        #expect(summary.admin?.listed == true)
        #expect(summary.admin?.partitions == [0, 1, 2])
        #expect(summary.produceConsume == .init(delivered: 20, readBack: 20))
        let configs = try #require(summary.adminConfigs)
        #expect(configs.afterAlter == ["cleanup.policy": "compact", "retention.ms": "120000", "max.message.bytes": "2000000"])
        #expect(configs.partitions == 3)
        #expect(configs.offsets == ["earliest": 0, "latest": 10, "byTimestamp": 7, "earliestAfterDelete": 3])
        let rebalance = try #require(summary.groupRebalance)
        #expect(rebalance.afterJoin.map(\.count) == [2, 2])
        #expect(Set(rebalance.afterJoin.joined()) == [0, 1, 2, 3])
        #expect(rebalance.afterLeave == [0, 1, 2, 3])
        #expect(rebalance.describedMembers == 2)
        #expect(rebalance.offsetDeleteWhileLive == ["stale": "NoError", "subscribed": "GroupSubscribedToTopicError"])
        let group = try #require(summary.groupCommit)
        #expect(group.consumed == 10)
        #expect(group.assignment == [0, 1])
        #expect(group.committed == ["0": 5, "1": 5])
        #expect(group.afterAlterAndDelete == ["0": 2])
        #expect(summary.client["kafka_python"] == "3.0.12")
    }
}

// MARK: Summaries the scripts print

struct ConfluentSummary: Decodable {
    struct Record: Decodable, Equatable {
        var key: String
        var value: String
        var headers: [String: String]
        var offset: Int
    }
    struct Producer: Decodable {
        var delivered: Int
        var offsets: [Int]
        var readBack: Int
        var first: Record
        var last: Record
    }
    struct Group: Decodable {
        var alone: [Int]
        var afterJoin: [String: [Int]]
        var afterLeave: [Int]
        var consumed: Int
        var afterCommit: [[Int]]
        var committed: [String: Int]
    }
    struct ListOffsets: Decodable, Equatable {
        var earliest: Int
        var latest: Int
        var byTimestamp: Int
        var maxTimestamp: Int
    }
    struct LogAppendTime: Decodable {
        var type: String
        var producerTimestampReplaced: Bool
    }
    struct DeleteRecords: Decodable, Equatable {
        var lowWatermark: Int
        var earliestAfter: Int
    }
    struct DescribedGroup: Decodable, Equatable {
        var state: String
        var members: Int
        var assignment: [Int]
        var assignor: String
    }
    struct GroupOffsets: Decodable, Equatable {
        var listed: Int
        var altered: [String: Int]
    }
    struct Admin: Decodable {
        var deletedTopicGone: Bool
        var partitionsAfterGrow: Int
        var describedConfigCount: Int
        var incrementalAltered: [String: String]
        var afterDeleteAppend: [String: String]
        var afterAlter: [String: String]
        var validateOnly: [String: String]
        var listOffsets: ListOffsets
        var deleteRecords: DeleteRecords
        var listedGroup: Bool
        var describedGroup: DescribedGroup
        var groupOffsets: GroupOffsets
    }
    struct CooperativeGroup: Decodable {
        var afterJoin: [Int]
        var afterLeave: [Int]
    }
    struct StaticMembership: Decodable {
        var kept: [Int]
        var restartedGot: [Int]
        var otherDisturbed: Bool
    }
    struct MemberCrash: Decodable {
        var split: [Int]
        var afterCrash: [Int]
    }
    var producer: Producer?
    var logAppendTime: LogAppendTime?
    var group: Group?
    var cooperativeGroup: CooperativeGroup?
    var staticMembership: StaticMembership?
    var memberCrash: MemberCrash?
    var admin: Admin?
    var failures: [String: String]?
    var client: [String: String]
}

struct KafkaPythonSummary: Decodable {
    struct Admin: Decodable {
        var listed: Bool
        var partitions: [Int]
    }
    struct ProduceConsume: Decodable, Equatable {
        var delivered: Int
        var readBack: Int
    }
    struct GroupCommit: Decodable {
        var consumed: Int
        var assignment: [Int]
        var committed: [String: Int]
        var afterAlterAndDelete: [String: Int]
    }
    struct AdminConfigs: Decodable {
        var afterAlter: [String: String]
        var partitions: Int
        var offsets: [String: Int]
    }
    struct GroupRebalance: Decodable {
        var afterJoin: [[Int]]
        var afterLeave: [Int]
        var describedMembers: Int
        var offsetDeleteWhileLive: [String: String]
    }
    var admin: Admin?
    var adminConfigs: AdminConfigs?
    var produceConsume: ProduceConsume?
    var groupCommit: GroupCommit?
    var groupRebalance: GroupRebalance?
    var failures: [String: String]?
    var client: [String: String]
}
