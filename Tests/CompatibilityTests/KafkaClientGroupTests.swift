import KafkaClient
import Testing
import TestSupport

/// Two KafkaClient consumers (librdkafka 2.0.2) in one group: the split, and the survivor
/// taking over when the first member (the group's leader) closes.
@Suite(.timeLimit(.minutes(2))) struct KafkaClientGroupTests {
    @Test func twoMembersSplitThePartitionsAndTheSurvivorTakesThemAllBack() async throws {
        try await withLocalKafka(configure: { $0.defaultPartitions = 4 }) { broker in
            let topic = uniqueTopic("two-members")
            let group = GroupID("two-members-\(topic)")
            let all = Set((0..<4).map { TopicPartition(topic, Partition(Int32($0))) })
            try await withProducer(broker.bootstrapServers) { producer in
                // Creates the topic (auto-created with 4 partitions) before anyone subscribes.
                _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "first"))
            }
            try await withConsumer(broker.bootstrapServers, group: group) { second in
                // Iterating the records is what drives a consumer's group protocol.
                var readingSecond: Task<Void, any Error>?
                defer { readingSecond?.cancel() }
                try await withConsumer(broker.bootstrapServers, group: group) { first in
                    try first.subscribe([topic])
                    let readingFirst = Task { for try await _ in first.records {} }
                    defer { readingFirst.cancel() }
                    try await eventually("the first member to own all partitions") { Set(try first.assignment()) == all }

                    try second.subscribe([topic])
                    readingSecond = Task { for try await _ in second.records {} }
                    try await eventually("a 2/2 split") {
                        let mine = Set(try first.assignment())
                        let theirs = Set(try second.assignment())
                        return mine.count == 2 && theirs.count == 2 && mine.union(theirs) == all
                    }
                }
                // The first member closed (leaving the group): the second gets everything.
                try await eventually("the survivor to own all partitions") { Set(try second.assignment()) == all }
            }
        }
    }
}
