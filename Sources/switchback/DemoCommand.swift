import ArgumentParser
import KafkaClient
import Logging

/// `switchback demo`: a produce-consume-commit round trip through an in-process mock Kafka
/// cluster, verified record by record.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Round-trip records through an in-process mock Kafka cluster and verify every one.",
        discussion: """
            Starts librdkafka's mock cluster, produces keyed records with headers through the
            idempotent producer, reads them back as a consumer group member, commits, reads the
            committed offsets back, and checks every record. Exits non-zero if anything differs.
            """
    )

    @Option(help: "Records to round-trip.")
    var records = 10_000

    @Option(help: "Partitions of the demo topic.")
    var partitions: Int32 = 3

    @Option(help: "Mock brokers to start.")
    var brokers = 3

    func validate() throws {
        guard records > 0 else { throw ValidationError("--records must be positive") }
        guard partitions > 0 else { throw ValidationError("--partitions must be positive") }
        guard (1...32).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 32") }
    }

    func run() async throws {
        var logger = Logger(label: "switchback.demo")
        logger.logLevel = .error
        let cluster = try MockKafkaCluster(brokers: brokers, logger: logger)
        let topic = TopicName("demo.orders")
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: Int32(min(brokers, 3)))
        print("mock cluster: \(brokers) brokers at \(cluster.bootstrapServers.joined(separator: ","))")
        print("topic \(topic): \(partitions) partitions")

        let roundTrip = KafkaRoundTrip(
            bootstrapServers: cluster.bootstrapServers, topic: topic, partitions: partitions, records: records,
            group: "switchback-demo")
        let report = try await roundTrip.run { progress in
            switch progress {
            case .produced(let done, let total) where done == total || done % 2_000 == 0:
                print("produced \(done)/\(total)")
            case .consumed(let done, let total) where done == total || done % 2_000 == 0:
                print("consumed \(done)/\(total)")
            case .committed(let offsets):
                print("committed: " + offsets.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            default:
                break
            }
        }

        print("")
        print("records round-tripped: \(report.records)")
        print("produce: \(report.produceDuration), consume+commit: \(report.consumeDuration)")
        print("log ends: " + report.endOffsets.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        guard report.succeeded else {
            print("VERIFICATION FAILED (\(report.problems.count) problems):")
            for problem in report.problems.prefix(20) { print("  - \(problem)") }
            throw ExitCode.failure
        }
        print("verified: every record came back with its key, value and headers; committed offsets match the log ends")
    }
}
