import KafkaClient
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct ConsumerTests {
    /// Produces `count` records `v0…` to partition 0 of a new topic; returns the topic.
    private func topic(in cluster: MockKafkaCluster, records count: Int, partitions: Int32 = 1,
                       timestamps: (Int) -> KafkaTimestamp? = { _ in nil }) async throws -> TopicName {
        let topic = uniqueTopic()
        try cluster.createTopic(topic, partitions: partitions)
        try await withProducer(cluster) { producer in
            let outcomes = try await producer.send((0..<count).map {
                ProducerRecord(topic: topic, partition: 0, key: "k\($0)", value: "v\($0)", timestamp: timestamps($0))
            })
            for outcome in outcomes { _ = try outcome.get() }
        }
        return topic
    }

    @Test func assignmentStartsAtEarliestOrAnExplicitOffset() async throws {
        try await withMockCluster { cluster in
            let topic = try await topic(in: cluster, records: 10)
            let partition = TopicPartition(topic, 0)
            let fromStart = try await withConsumer(cluster) { consumer in
                try await consumer.assign([partition: .earliest])
                #expect(try consumer.assignment() == [partition])
                return try await consumer.read(10)
            }
            #expect(fromStart.map(\.offset) == (0..<10).map { Offset($0) })
            #expect(fromStart.map(\.keyString) == (0..<10).map { "k\($0)" })

            let fromSeven = try await withConsumer(cluster) { consumer in
                try await consumer.assign([partition: .offset(7)])
                let records = try await consumer.read(3)
                #expect(try consumer.positions([partition]) == [partition: 10])
                return records
            }
            #expect(fromSeven.map(\.valueString) == ["v7", "v8", "v9"])
        }
    }

    /// Assigns partition 0 of `topic` from `start`, then keeps writing records until the
    /// consumer reads one (where a logical start resolves is up to the broker); returns it.
    private func firstRecordRead(
        from start: StartOffset, _ topic: TopicName, in cluster: MockKafkaCluster
    ) async throws -> KafkaRecord {
        try await withConsumer(cluster) { consumer in
            try await consumer.assign([TopicPartition(topic, 0): start])
            let done = Flag()
            let firstRead = Task {
                defer { done.set() }
                return try await consumer.read(1)
            }
            try await withProducer(cluster) { producer in
                var index = 0
                try await eventually("a record written after the assignment is read") {
                    _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "new\(index)"))
                    index += 1
                    return done.isSet
                }
            }
            return try #require(try await firstRead.value.first)
        }
    }

    @Test func assignmentAtLatestSkipsExistingRecords() async throws {
        try await withMockCluster { cluster in
            let topic = try await topic(in: cluster, records: 3)
            let first = try await firstRecordRead(from: .latest, topic, in: cluster)
            #expect(first.offset >= 3)
            #expect(first.valueString?.hasPrefix("new") == true)
        }
    }

    /// A timestamp later than every record resolves to the log end. (The 2.0.2 mock cluster
    /// answers every timestamp look-up with "none", so look-ups inside the log are tested
    /// against LocalKafka.)
    @Test func assignmentByATimestampAfterEveryRecordStartsAtTheEnd() async throws {
        try await withMockCluster { cluster in
            let topic = try await topic(in: cluster, records: 5) { KafkaTimestamp(milliseconds: 1_000 * Int64($0 + 1)) }
            let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
            let partition = TopicPartition(topic, 0)
            let late = KafkaTimestamp(milliseconds: 9_000)
            let resolved = try await admin.offsets(forTimes: [partition: late])
            #expect(resolved.count == 1)
            #expect(resolved[partition] == .some(Offset?.none))
            let first = try await firstRecordRead(from: .timestamp(late), topic, in: cluster)
            #expect(first.offset >= 5)
            #expect(first.valueString?.hasPrefix("new") == true)
        }
    }

    @Test func watermarksAndEndOffsetsBoundThePartition() async throws {
        try await withMockCluster { cluster in
            let topic = try await topic(in: cluster, records: 5, partitions: 2)
            try await withConsumer(cluster) { consumer in
                let marks = try await consumer.watermarks(of: TopicPartition(topic, 0))
                #expect(marks == Watermarks(low: 0, high: 5))
                #expect(marks.count == 5)
                let ends = try await consumer.endOffsets([TopicPartition(topic, 0), TopicPartition(topic, 1)])
                #expect(ends == [TopicPartition(topic, 0): 5, TopicPartition(topic, 1): 0])
            }
        }
    }

    @Test func groupSubscriptionConsumesCommitsAndReadsBackCommittedOffsets() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 2)
            try await withProducer(cluster) { producer in
                let outcomes = try await producer.send((0..<20).map {
                    ProducerRecord(topic: topic, partition: Partition(Int32($0 % 2)), value: "v\($0)")
                })
                for outcome in outcomes { _ = try outcome.get() }
            }
            let group = GroupID("group-\(topic)")
            let p0 = TopicPartition(topic, 0)
            let p1 = TopicPartition(topic, 1)
            try await withConsumer(cluster, group: group) { consumer in
                try consumer.subscribe([topic])
                let records = try await consumer.read(20)
                #expect(Set(records.compactMap(\.valueString)) == Set((0..<20).map { "v\($0)" }))
                // Commit the next offset to read: after partition 0's last record, and partway in 1.
                try await consumer.commit(nextOffsets: [p0: 10, p1: 4])
                #expect(try await consumer.committed([p0, p1]) == [p0: 10, p1: 4])
            }
            // A new member of the group starts where the group committed.
            let resumed = try await withConsumer(cluster, group: group) { consumer in
                try await consumer.assign([p1: .committed])
                #expect(try await consumer.committed([p0, p1]) == [p0: 10, p1: 4])
                return try await consumer.read(6)
            }
            #expect(resumed.map(\.offset) == (4..<10).map { Offset($0) })
            #expect(resumed.allSatisfy { $0.partition == 1 })
            // The admin API reads the same committed offsets.
            let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
            #expect(try await admin.committedOffsets(group: group, partitions: [p0, p1]) == [p0: 10, p1: 4])
        }
    }

    @Test func commitAfterARecordStoresTheFollowingOffset() async throws {
        try await withMockCluster { cluster in
            let topic = try await topic(in: cluster, records: 3)
            let partition = TopicPartition(topic, 0)
            try await withConsumer(cluster, group: GroupID("g-\(topic)")) { consumer in
                try await consumer.assign([partition: .earliest])
                let records = try await consumer.read(3)
                try await consumer.commit(after: try #require(records.last))
                #expect(try await consumer.committed([partition]) == [partition: 3])
            }
        }
    }

    @Test func pausedPartitionsAreNotReadUntilResumed() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 2)
            let p0 = TopicPartition(topic, 0)
            let p1 = TopicPartition(topic, 1)
            try await withConsumer(cluster) { consumer in
                try await consumer.assign([p0: .earliest, p1: .earliest])
                try consumer.pause([p0])
                try await withProducer(cluster) { producer in
                    // Partition 0's records are written first, so without the pause they would
                    // arrive no later than partition 1's.
                    for partition in [p0, p1] {
                        let outcomes = try await producer.send((0..<5).map {
                            ProducerRecord(topic: topic, partition: partition.partition, value: "v\($0)")
                        })
                        for outcome in outcomes { _ = try outcome.get() }
                    }
                }
                let whilePaused = try await consumer.read(5)
                #expect(whilePaused.allSatisfy { $0.partition == 1 })
                try consumer.resume([p0])
                let afterResume = try await consumer.read(5)
                #expect(afterResume.allSatisfy { $0.partition == 0 })
                #expect(afterResume.map(\.offset) == (0..<5).map { Offset($0) })
            }
        }
    }

    @Test func aStartBeyondTheLogEndsTheRecordsWithAnErrorWhenResetIsError() async throws {
        try await withMockCluster { cluster in
            let topic = try await topic(in: cluster, records: 5)
            try await withConsumer(cluster, configure: { $0.offsetReset = .error }) { consumer in
                try await consumer.assign([TopicPartition(topic, 0): .offset(100)])
                let error = await #expect(throws: KafkaError.self) {
                    for try await _ in consumer.records {}
                }
                #expect(error?.code == .offsetOutOfRange || error?.code == .autoOffsetReset)
                #expect(error?.topic == topic)
                #expect(error?.partition == 0)
            }
        }
    }

    @Test func commitsNeedAConsumerGroup() async throws {
        try await withMockCluster { cluster in
            try await withConsumer(cluster) { consumer in
                let error = await #expect(throws: KafkaError.self) {
                    try await consumer.commit(nextOffsets: [TopicPartition("t", 0): 1])
                }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.contains("groupID") == true)
                #expect(throws: KafkaError.self) { try consumer.subscribe(["t"]) }
            }
        }
    }

    @Test func closedConsumerEndsItsRecordsAndRefusesCalls() async throws {
        try await withMockCluster { cluster in
            let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers))
            await consumer.close()
            var iterator = consumer.records.makeAsyncIterator()
            #expect(try await iterator.next() == nil)
            let error = await #expect(throws: KafkaError.self) {
                try await consumer.assign([TopicPartition("t", 0): .earliest])
            }
            #expect(error?.code == .destroyed)
        }
    }
}
