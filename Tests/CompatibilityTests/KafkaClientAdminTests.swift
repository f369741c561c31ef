import KafkaClient
import Testing
import TestSupport

/// KafkaClient's admin calls (librdkafka 2.0.2) that the librdkafka mock cluster cannot answer,
/// against LocalKafka: topics, partitions, configs, records, groups and group offsets.
@Suite(.timeLimit(.minutes(2))) struct KafkaClientAdminTests {
    @Test func createsGrowsAndDeletesTopics() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let kept = uniqueTopic("kept")
            let dropped = uniqueTopic("dropped")
            let created = try await admin.createTopics([
                NewTopic(name: kept, partitions: 2, configs: ["retention.ms": "3600000"]),
                NewTopic(name: dropped, partitions: 1),
            ])
            #expect(created.count == 2 && created.values.allSatisfy { $0.failure == nil }, "\(created)")

            let again = try await admin.createTopics([NewTopic(name: kept, partitions: 2)])
            #expect(again[kept]?.failure?.code == .topicAlreadyExists)
            let impossible = try await admin.createTopics([NewTopic(name: uniqueTopic("rf3"), partitions: 1, replicationFactor: 3)])
            #expect(impossible.values.first?.failure?.code == .invalidReplicationFactor)

            var topics = try await admin.listTopics()
            #expect(topics[kept]?.partitionCount == 2)
            #expect(topics[kept]?.partitions.allSatisfy { $0.leader == 0 && $0.replicas == [0] && $0.inSyncReplicas == [0] } == true)
            #expect(topics[dropped]?.partitionCount == 1)

            let grown = try await admin.createPartitions([kept: 5])
            #expect(grown[kept]?.failure == nil, "\(grown)")
            let shrunk = try await admin.createPartitions([kept: 3])
            #expect(shrunk[kept]?.failure?.code == .invalidPartitions)

            let deleted = try await admin.deleteTopics([dropped])
            #expect(deleted[dropped]?.failure == nil, "\(deleted)")
            let missing = try await admin.deleteTopics([uniqueTopic("never-created")])
            #expect(missing.values.first?.failure?.code == .unknownTopicOrPartition)

            topics = try await admin.listTopics()
            #expect(topics[kept]?.partitionCount == 5)
            #expect(topics[dropped] == nil)
        }
    }

    @Test func describesAndAltersTopicConfigsKeepingTheOtherDynamicOnes() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("configs")
            _ = try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["cleanup.policy": "compact"])])

            func configs() async throws -> [String: ConfigEntry] {
                let described = try #require(try await admin.describeTopicConfigs([topic])[topic])
                return Dictionary(uniqueKeysWithValues: try described.get().map { ($0.name, $0) })
            }
            var entries = try await configs()
            #expect(entries["cleanup.policy"]?.value == "compact")
            #expect(entries["cleanup.policy"]?.source == .dynamicTopic)
            #expect(entries["retention.ms"]?.isDefault == true)
            #expect(entries["retention.ms"]?.source == .defaultConfig)

            try await admin.alterTopicConfigs(topic, set: ["retention.ms": "60000", "max.message.bytes": "2097152"])
            entries = try await configs()
            #expect(entries["retention.ms"]?.value == "60000")
            #expect(entries["max.message.bytes"]?.value == "2097152")
            #expect(entries["cleanup.policy"]?.value == "compact", "AlterConfigs lost a dynamic config the merge wrote back")

            try await admin.alterTopicConfigs(topic, set: ["min.insync.replicas": "1"], delete: ["cleanup.policy"])
            entries = try await configs()
            #expect(entries["cleanup.policy"]?.value == "delete")
            #expect(entries["cleanup.policy"]?.isDefault == true)
            #expect(entries["min.insync.replicas"]?.value == "1")
            #expect(entries["retention.ms"]?.value == "60000")

            await #expect(throws: KafkaError.self) {
                try await admin.alterTopicConfigs(topic, set: ["retention.ms": "not-a-number"])
            }
            let unknown = try await admin.describeTopicConfigs([uniqueTopic("absent")])
            #expect(unknown.values.first?.failure?.code == .unknownTopicOrPartition)
        }
    }

    @Test func deletesRecordsAndFindsOffsetsByTime() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("records")
            _ = try await admin.createTopics([NewTopic(name: topic, partitions: 1)])
            let partition = TopicPartition(topic, 0)
            let base: Int64 = 1_700_000_000_000
            try await withProducer(broker.bootstrapServers) { producer in
                for index in 0..<10 {
                    _ = try await producer.send(ProducerRecord(
                        topic: topic, partition: 0, value: "v\(index)",
                        timestamp: KafkaTimestamp(milliseconds: base + Int64(index) * 1000)))
                }
            }
            #expect(try await admin.watermarks(of: partition) == Watermarks(low: 0, high: 10))
            let byTime = try await admin.offsets(forTimes: [partition: KafkaTimestamp(milliseconds: base + 3500)])
            #expect(byTime[partition] == .some(Offset(4)))
            let tooLate = try await admin.offsets(forTimes: [partition: KafkaTimestamp(milliseconds: base + 60_000)])
            #expect(tooLate[partition] == .some(nil))

            let deleted = try await admin.deleteRecords(before: [partition: 6])
            #expect(try deleted[partition]?.get() == Offset(6))
            #expect(try await admin.watermarks(of: partition) == Watermarks(low: 6, high: 10))
            let beforeStart = try await admin.offsets(forTimes: [partition: KafkaTimestamp(milliseconds: base)])
            #expect(beforeStart[partition] == .some(Offset(6)))

            let remaining = try await withConsumer(broker.bootstrapServers) { consumer in
                try await consumer.assign([partition: .earliest])
                return try await consumer.read(4)
            }
            #expect(remaining.map(\.offset) == [6, 7, 8, 9])
            #expect(remaining.map(\.valueString) == ["v6", "v7", "v8", "v9"])
        }
    }

    @Test func listsAndDescribesGroupsAndMovesTheirOffsets() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let topic = uniqueTopic("grouped")
            _ = try await admin.createTopics([NewTopic(name: topic, partitions: 2)])
            let group = GroupID("admin-\(topic)")
            let p0 = TopicPartition(topic, 0)
            let p1 = TopicPartition(topic, 1)

            try await withConsumer(broker.bootstrapServers, group: group) { consumer in
                try consumer.subscribe([topic])
                let reading = Task { for try await _ in consumer.records {} }
                defer { reading.cancel() }
                try await eventually("the member to be assigned both partitions") {
                    Set(try consumer.assignment()) == [p0, p1]
                }
                try await consumer.commit(nextOffsets: [p0: 0])

                let listed = try await admin.listConsumerGroups()
                #expect(listed.errors.isEmpty, "\(listed.errors)")
                let listing = try #require(listed.groups.first { $0.id == group })
                #expect(!listing.isSimple)
                // The state needs ListGroups v4 (flexible); LocalKafka serves v0-v2, so it is unknown.
                #expect(listing.state == .unknown)

                let described = try #require(try await admin.describeConsumerGroups([group])[group]).get()
                #expect(described.state == .stable)
                #expect(described.partitionAssignor == "range")
                #expect(described.coordinator == 0)
                #expect(described.members.count == 1)
                #expect(Set(described.members.first?.assignment ?? []) == [p0, p1])
                #expect(described.members.first?.clientID.isEmpty == false)
            }

            // The member left: the group is empty and its offsets can be moved.
            let empty = try #require(try await admin.describeConsumerGroups([group])[group]).get()
            #expect(empty.state == .empty)
            #expect(empty.members.isEmpty)
            let altered = try await admin.alterCommittedOffsets(group: group, nextOffsets: [p0: 42, p1: 7])
            #expect(altered.values.allSatisfy { $0.failure == nil }, "\(altered)")
            #expect(try await admin.committedOffsets(group: group, partitions: [p0, p1]) == [p0: 42, p1: 7])
            #expect(try await admin.committedOffsets(group: group, partitions: [p1]) == [p1: 7])
            // No partitions named: every partition of the cluster is asked for by name, since
            // librdkafka 2.0.2's "all partitions" request is answered with nothing.
            #expect(try await admin.committedOffsets(group: group) == [p0: 42, p1: 7])

            let unknown = try #require(try await admin.describeConsumerGroups(["never-joined"])["never-joined"]).get()
            #expect(unknown.state == .dead)
            #expect(unknown.members.isEmpty)
        }
    }
}
