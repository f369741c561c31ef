import ArgumentParser
import KafkaClient
import Logging

/// Produce and consume throughput through KafkaClient against librdkafka's in-process mock
/// cluster, for several record sizes.
struct ClientBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Produce and consume throughput of KafkaClient against the in-process mock cluster."
    )

    @OptionGroup var workload: ThroughputWorkload

    func run() async throws {
        var logger = Logger(label: "switchback.bench")
        logger.logLevel = .error
        let cluster = try MockKafkaCluster(brokers: 1, logger: logger)
        print("KafkaClient throughput, librdkafka \(Librdkafka.version) mock cluster (1 broker, in-process)")
        print(workload.summary + "\n")

        var rows: [ThroughputTable.Row] = []
        for size in workload.recordSizes {
            let topic = workload.freshTopic(size: size)
            try cluster.createTopic(topic, partitions: workload.partitions)
            let produced = try await workload.produce(size: size, to: topic, bootstrapServers: cluster.bootstrapServers, logger: logger)
            rows.append(.init(operation: "produce", recordSize: size, records: workload.records, duration: produced))
            let consumed = try await workload.consume(size: size, from: topic, bootstrapServers: cluster.bootstrapServers, logger: logger)
            rows.append(.init(operation: "consume", recordSize: size, records: workload.records, duration: consumed))
        }
        print(ThroughputTable(rows: rows).rendered)
    }
}
