import ArgumentParser
import KafkaClient
import LocalKafka
import Logging

/// Produce and consume throughput through KafkaClient against LocalKafka, side by side with
/// the same workload against librdkafka's mock cluster, and LocalKafka's resident memory idle
/// and under that load.
///
/// LocalKafka runs as a child process (this executable's hidden `bench-broker` subcommand) so
/// its memory is its own; the mock cluster runs inside this process, as it always does.
struct LocalKafkaBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localkafka",
        abstract: "Throughput of KafkaClient against LocalKafka (a child process) versus librdkafka's mock cluster, and LocalKafka's memory."
    )

    @OptionGroup var workload: ThroughputWorkload

    @Option(help: "LocalKafka fsync policies to measure, comma-separated: interval, always.")
    var fsync = "interval,always"

    private var policies: [FsyncPolicy] {
        fsync.split(separator: ",").compactMap { FsyncPolicy(rawValue: String($0.trimmingPrefix(" "))) }
    }

    func validate() throws {
        guard !policies.isEmpty, policies.count == fsync.split(separator: ",").count else {
            throw ValidationError("--fsync must list interval and/or always, separated by commas")
        }
    }

    /// One measured configuration of one cluster.
    struct Measurement {
        var cluster: String
        /// Produce and consume durations per record size.
        var produce: [Int: Duration] = [:]
        var consume: [Int: Duration] = [:]
        /// Broker resident memory, when measured: at start, peak while producing and consuming, after the load.
        var idleBytes: Int?
        var producePeakBytes: Int?
        var consumePeakBytes: Int?
        var afterBytes: Int?
    }

    func run() async throws {
        var logger = Logger(label: "switchback.bench")
        logger.logLevel = .error
        print("KafkaClient throughput (librdkafka \(Librdkafka.version)): LocalKafka child process versus the mock cluster (1 broker, in-process)")
        print(workload.summary + "\n")

        var measurements: [Measurement] = []
        for policy in policies {
            measurements.append(try await measureLocalKafka(fsync: policy, logger: logger))
        }
        let mock = try await measureMockCluster(logger: logger)

        print(throughputTable(localKafka: measurements, mock: mock).rendered)
        print("MB/s counts record values only (10^6 bytes); ratio = LocalKafka records/s ÷ mock cluster records/s.\n")
        print(memoryTable(measurements).rendered)
        print("RSS = VmRSS of the broker process from /proc/<pid>/status; peaks sampled every 20 ms.")
    }

    private func measureLocalKafka(fsync: FsyncPolicy, logger: Logger) async throws -> Measurement {
        let broker = try BenchBrokerProcess(fsync: fsync)
        defer { broker.stop() }
        var measurement = Measurement(cluster: "LocalKafka fsync=\(fsync.rawValue)")
        let servers = [broker.bootstrapServers]
        measurement.idleBytes = broker.residentBytes
        for size in workload.recordSizes {
            let topic = workload.freshTopic(size: size)
            try await createTopic(topic, on: servers, logger: logger)
            let (produced, producePeak) = try await peakResidentBytes(of: broker) {
                try await workload.produce(size: size, to: topic, bootstrapServers: servers, logger: logger)
            }
            let (consumed, consumePeak) = try await peakResidentBytes(of: broker) {
                try await workload.consume(size: size, from: topic, bootstrapServers: servers, logger: logger)
            }
            measurement.produce[size] = produced
            measurement.consume[size] = consumed
            measurement.producePeakBytes = [measurement.producePeakBytes, producePeak].compactMap { $0 }.max()
            measurement.consumePeakBytes = [measurement.consumePeakBytes, consumePeak].compactMap { $0 }.max()
        }
        measurement.afterBytes = broker.residentBytes
        return measurement
    }

    private func createTopic(_ topic: TopicName, on servers: [String], logger: Logger) async throws {
        // Quiet: the admin client outlives nothing but this call, yet librdkafka would report
        // the broker's later shutdown as a lost connection.
        var configuration = KafkaClientConfiguration(bootstrapServers: servers)
        configuration.logLevel = .critical
        let admin = try KafkaAdmin(configuration: configuration, logger: logger)
        let created = try await admin.createTopics([NewTopic(name: topic, partitions: workload.partitions)])
        try created[topic]?.get()
    }

    private func measureMockCluster(logger: Logger) async throws -> Measurement {
        let cluster = try MockKafkaCluster(brokers: 1, logger: logger)
        var measurement = Measurement(cluster: "mock cluster")
        for size in workload.recordSizes {
            let topic = workload.freshTopic(size: size)
            try cluster.createTopic(topic, partitions: workload.partitions)
            measurement.produce[size] = try await workload.produce(size: size, to: topic, bootstrapServers: cluster.bootstrapServers, logger: logger)
            measurement.consume[size] = try await workload.consume(size: size, from: topic, bootstrapServers: cluster.bootstrapServers, logger: logger)
        }
        return measurement
    }

    private func throughputTable(localKafka: [Measurement], mock: Measurement) -> TextTable {
        var rows: [[String]] = []
        for size in workload.recordSizes {
            for (operation, durations) in [("produce", \Measurement.produce), ("consume", \Measurement.consume)] {
                let mockRow = ThroughputTable.Row(operation: operation, recordSize: size, records: workload.records, duration: mock[keyPath: durations][size] ?? .zero)
                for measurement in localKafka + [mock] {
                    let row = ThroughputTable.Row(
                        operation: operation, recordSize: size, records: workload.records,
                        duration: measurement[keyPath: durations][size] ?? .zero)
                    let ratio = measurement.cluster == mock.cluster ? "1.00" : TextTable.format(row.recordsPerSecond / mockRow.recordsPerSecond, decimals: 2)
                    rows.append([
                        operation, "\(size) B", measurement.cluster,
                        TextTable.format(row.recordsPerSecond, decimals: 0), TextTable.format(row.megabytesPerSecond, decimals: 1), ratio,
                    ])
                }
            }
        }
        return TextTable(header: ["operation", "record size", "cluster", "records/s", "MB/s", "ratio to mock"], rows: rows)
    }

    private func memoryTable(_ measurements: [Measurement]) -> TextTable {
        func megabytes(_ bytes: Int?) -> String {
            bytes.map { TextTable.format(Double($0) / 1_048_576, decimals: 1) + " MiB" } ?? "-"
        }
        return TextTable(
            header: ["broker", "RSS idle", "RSS peak producing", "RSS peak consuming", "RSS after load"],
            rows: measurements.map {
                [$0.cluster, megabytes($0.idleBytes), megabytes($0.producePeakBytes), megabytes($0.consumePeakBytes), megabytes($0.afterBytes)]
            }
        )
    }
}
