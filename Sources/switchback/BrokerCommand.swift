import ArgumentParser
import Foundation
import LocalKafka
import Logging
import ServiceLifecycle
import SwitchbackConfiguration

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run LocalKafka, the embedded single-node Kafka-compatible broker.",
        discussion: """
            LocalKafka is the embedded cluster that Switchback's tests and demonstrations run on. \
            Unmodified Kafka \
            clients (librdkafka, kcat, confluent-kafka, kafka-python) work against it. It keeps \
            its data in --data-dir and recovers it after a crash. It is NOT a production broker: \
            one node, no replication, no TLS or SASL; transactions are kept in one file, not a log.

            It runs until SIGINT or SIGTERM, then closes connections and flushes its storage.

            The optional control endpoint (HTTP, no authentication: keep it on loopback) \
            injects faults for tests and rehearsals:
              curl -X POST http://127.0.0.1:9093/faults/blackhole     # the site vanishes
              curl -X POST 'http://127.0.0.1:9093/faults/latency?ms=200'
              curl -X POST 'http://127.0.0.1:9093/faults/fail?api=produce&error=6&count=3'
              curl -X POST http://127.0.0.1:9093/faults/heal
              curl -X POST 'http://127.0.0.1:9093/compact?topic=orders'  # clean a compacted topic now

            Example:
              switchback broker --listen 127.0.0.1:9092 --data-dir /tmp/kafka-a --control 127.0.0.1:9093
            """
    )

    @Option(help: "Address to serve Kafka clients on, and to advertise to them (port 0 picks a free one).")
    var listen = HostPort(host: "127.0.0.1", port: 9092)

    @Option(help: "Directory for topics, offsets and metadata; created if missing.")
    var dataDir: String

    @Option(help: "Address of the HTTP control endpoint for fault injection (same host as --listen). Off when not given.")
    var control: HostPort?

    @Option(help: "Partition count for topics created automatically or without a count.")
    var partitions = 1

    @Option(help: "When appends reach disk: 'always' (each acknowledged append survives kill -9) or 'interval' (fsync every 200 ms: a machine crash, not a process crash, can lose that window).")
    var fsync: FsyncPolicy = .always

    @Option(help: "How often topics with cleanup.policy=compact are cleaned (keeping the latest record per key), e.g. 15s, 1m.")
    var compactionInterval = CommandDuration(.seconds(15))

    @Flag(help: "Refuse to create topics on first use (metadata or produce for an unknown topic).")
    var noAutoCreate = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard (1...10_000).contains(partitions) else {
            throw ValidationError("--partitions is \(partitions); use a count between 1 and 10000.")
        }
        guard compactionInterval.duration > .zero else {
            throw ValidationError("--compaction-interval must be longer than 0, e.g. 15s.")
        }
        if let control, control.host != listen.host {
            throw ValidationError("--control host \(control.host) differs from --listen host \(listen.host); serve both on the same host.")
        }
    }

    func run() async throws {
        bootstrapLogging(level: logLevel)
        let logger = Logger(label: "localkafka")
        let configuration = BrokerConfiguration(
            dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true),
            host: listen.host,
            port: listen.port,
            defaultPartitions: partitions,
            autoCreateTopics: !noAutoCreate,
            fsync: fsync,
            compactionInterval: compactionInterval.duration
        )
        let broker = try await LocalKafkaBroker.start(configuration: configuration, controlPort: control?.port, logger: logger)
        // The one line scripts wait for: the broker accepts connections from here on.
        let ready = "LocalKafka serving on \(broker.bootstrapServers)" + (broker.controlEndpoint.map { " (control on http://\($0))" } ?? "")
        FileHandle.standardOutput.write(Data((ready + "\n").utf8))
        let group = ServiceGroup(
            services: [BrokerService(broker: broker)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
    }
}

/// Runs a broker under swift-service-lifecycle: a graceful shutdown (SIGTERM, SIGINT) stops it
/// cleanly, flushing storage.
struct BrokerService: Service {
    let broker: LocalKafkaBroker

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await broker.run()
        }
    }
}

extension FsyncPolicy: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A duration on the command line, written as in the configuration file: `250ms`, `15s`, `10m`.
struct CommandDuration: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        guard let duration = DurationText.parse(argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { DurationText.format(duration) }
}
