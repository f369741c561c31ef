import Foundation
import KafkaClient
import Mirror
import Testing

/// A live translation in a planned switchover reads a group's offsets only once they are final:
/// a consumer paused on `switching` may still be committing the batch it delivered last.
@Suite("Group settling before a live translation", .timeLimit(.minutes(2)))
struct GroupSettlingTests {
    /// Drains 20 records of `orders/0` from dc-a to dc-b; the flow's configuration.
    func mirrored(_ sites: TwoSites) async throws -> FlowConfiguration {
        try await createTopic("orders", partitions: 1, on: sites.brokerA)
        try await produce(sampleRecords(topic: "orders", count: 20, partitions: 1), to: sites.brokerA)
        let configuration = try sites.flow(from: TwoSites.a, to: TwoSites.b)
        let flow = Flow(configuration: configuration, logger: quietLogger)
        let running = start(flow)
        try await flow.drain()
        try await running.value
        return configuration
    }

    /// A member of `group` at dc-a, subscribed to `orders`, that commits only when told to.
    func member(_ group: String, _ sites: TwoSites) async throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [sites.brokerA], groupID: GroupID(group))
        configuration.client.logLevel = .error
        let member = try KafkaConsumer(configuration: configuration, logger: quietLogger)
        try member.subscribe(["orders"])
        try await waitUntil("\(group) has a member at dc-a") {
            _ = try? await member.nextBatch()
            let described = try await admin(sites.brokerA).describeConsumerGroups([GroupID(group)])
            return (try? described[GroupID(group)]?.get().hasActiveMembers) == true
        }
        return member
    }

    func commit(_ member: KafkaConsumer, _ offset: Int64) async throws {
        try await member.commit(nextOffsets: [KafkaClient.TopicPartition("orders", 0): KafkaClient.Offset(offset)])
    }

    func committedAtB(_ group: String, _ sites: TwoSites) async throws -> Int64? {
        try await admin(sites.brokerB).committedOffsets(group: GroupID(group), partitions: [KafkaClient.TopicPartition("dc-a.orders", 0)])
            .values.first?.rawValue
    }

    @Test("a commit that lands while the translation waits is the one translated; then the group counts as settled by being quiet")
    func lateCommitIsTranslated() async throws {
        try await withTwoSites { sites in
            let configuration = try await mirrored(sites)
            let member = try await member("late", sites)
            try await commit(member, 5)
            let settling = GroupSettling(quiet: .seconds(2), within: .seconds(30))
            let translating = Task {
                try await OffsetTranslationService(configuration: configuration, logger: quietLogger)
                    .translate(direction: .failover, dryRun: false, groups: [ConsumerGroupID(rawValue: "late")!], settling: settling)
            }
            // The consumer's last batch is committed after the translation began.
            try await Task.sleep(for: .milliseconds(400))
            try await commit(member, 12)
            let result = try await translating.value
            #expect(result.settled[ConsumerGroupID(rawValue: "late")!] == .quiet(.seconds(2)), "\(result)")
            await member.close()
            #expect(try await committedAtB("late", sites) == 12, "\(result)")
        }
    }

    @Test("a group committed at the end of what it consumes, or without members, is settled at once")
    func settledAtOnce() async throws {
        try await withTwoSites { sites in
            let configuration = try await mirrored(sites)
            let member = try await member("done", sites)
            try await commit(member, 20)
            try await GroupTranslationTests.commit(group: "gone", topic: "orders", [0: 7], on: sites.brokerA)
            let settling = GroupSettling(quiet: .seconds(60), within: .seconds(60))
            let result = try await OffsetTranslationService(configuration: configuration, logger: quietLogger)
                .translate(direction: .failover, dryRun: false, groups: ["done", "gone"].map { ConsumerGroupID(rawValue: $0)! }, settling: settling)
            await member.close()
            #expect(result.settled[ConsumerGroupID(rawValue: "done")!] == .consumedToTheEnd, "\(result)")
            #expect(result.settled[ConsumerGroupID(rawValue: "gone")!] == .noMembers, "\(result)")
            #expect(try await committedAtB("gone", sites) == 7)
            #expect(result.description.contains("offsets read when settled: no consumer in the group"))
        }
    }
}
