import KafkaClient
import KafkaWire
import NIOCore
import Testing
import TestSupport

@testable import LocalKafka

/// OffsetDelete on a group with live members refused every topic, where Kafka refuses only the
/// topics the members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC): kafka-python's
/// `delete_group_offsets` could not drop a stale topic's offsets from a running group.
@Suite(.timeLimit(.minutes(1))) struct OffsetDeleteTests {
    @Test func aLiveGroupKeepsOnlyTheOffsetsOfTopicsItSubscribesTo() async throws {
        try await withLocalKafka { broker in
            let admin = try KafkaAdmin(bootstrapServers: [broker.bootstrapServers])
            let used = uniqueTopic("used")
            let stale = uniqueTopic("stale")
            _ = try await admin.createTopics([NewTopic(name: used, partitions: 1), NewTopic(name: stale, partitions: 1)])
            let group = KafkaClient.GroupID("offset-delete-\(used)")
            let usedPartition = TopicPartition(used, 0)
            let stalePartition = TopicPartition(stale, 0)

            try await withConsumer(broker.bootstrapServers, group: group) { member in
                try member.subscribe([used])
                let reading = Task { for try await _ in member.records {} }
                defer { reading.cancel() }
                try await eventually("the member to join") { try member.assignment() == [usedPartition] }
                try await member.commit(nextOffsets: [usedPartition: 3, stalePartition: 5])

                let outcome = try await RawKafkaConnection.with(broker.bootstrapServers) { connection in
                    let request = KafkaRequest.offsetDelete(OffsetDeleteRequest(groupId: group.rawValue, topics: [
                        .init(name: used.rawValue, partitions: [.init(partitionIndex: 0)]),
                        .init(name: stale.rawValue, partitions: [.init(partitionIndex: 0)]),
                    ]))
                    guard case .offsetDelete(let response) = try await connection.call(request, .offsetDelete, version: 0) else {
                        throw UnexpectedAnswer("OffsetDelete answered with another API")
                    }
                    return response
                }
                #expect(outcome.errorCode == 0)
                let codes = Dictionary(uniqueKeysWithValues: outcome.topics.map { ($0.name, $0.partitions.map(\.errorCode)) })
                #expect(codes[used.rawValue] == [KafkaErrorCode.groupSubscribedToTopic.rawValue])
                #expect(codes[stale.rawValue] == [0])
                #expect(try await admin.committedOffsets(group: group, partitions: [usedPartition, stalePartition]) == [usedPartition: 3])
            }
        }
    }

    @Test func readsTheTopicsOfAConsumerSubscription() {
        var metadata = ByteBuffer()
        metadata.writeInteger(Int16(1))
        metadata.writeInteger(Int32(2))
        for topic in ["orders", "payments"] {
            metadata.writeInteger(Int16(topic.utf8.count))
            metadata.writeString(topic)
        }
        metadata.writeInteger(Int32(-1))  // user data (v1), ignored
        #expect(ConsumerSubscription.topics(in: metadata) == ["orders", "payments"])
    }

    @Test(arguments: [
        [UInt8](),                                  // empty
        [0, 0, 0xFF, 0xFF, 0xFF, 0xFF],             // negative topic count
        [0, 0, 0x7F, 0xFF, 0xFF, 0xFF],             // a count the bytes cannot hold
        [0, 0, 0, 0, 0, 1, 0, 9, 0x61],             // a name shorter than its length
        [0xFF, 0xFF, 0, 0, 0, 0],                   // negative version
    ])
    func refusesMetadataThatIsNotASubscription(bytes: [UInt8]) {
        #expect(ConsumerSubscription.topics(in: ByteBuffer(bytes: bytes)) == nil)
    }
}
