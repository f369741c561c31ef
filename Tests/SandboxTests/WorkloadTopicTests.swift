import KafkaClient
import Logging
import Testing
import TestSupport

@testable import Sandbox

/// The lab creates the workload's topic before the agents start, so the flows find it at once
/// (they look for new topics only every 30 s) and the steady state before a fault mirrors.
@Suite(.timeLimit(.minutes(2))) struct WorkloadTopicTests {
    @Test func theTopicIsCreatedWithTheLabsPartitionsAndCreatingItAgainIsHarmless() async throws {
        try await withLocalKafka { broker in
            try await Lab.createWorkloadTopic(at: broker.bootstrapServers)
            try await Lab.createWorkloadTopic(at: broker.bootstrapServers)
            var logger = Logger(label: "workload-topic-test")
            logger.logLevel = .critical
            let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [broker.bootstrapServers], logLevel: .error), logger: logger)
            let topics = try await admin.listTopics()
            #expect(topics[TopicName(LabLayout.topic)]?.partitionCount == Lab.partitions)
        }
    }
}
