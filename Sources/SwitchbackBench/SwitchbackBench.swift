import ArgumentParser

/// `switchback-bench`: benchmarks that print figures. Run them in release mode:
/// `swift run -c release switchback-bench client` or `… switchback-bench localkafka`.
@main
struct SwitchbackBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchback-bench",
        abstract: "Measure Switchback's throughput and print the figures.",
        subcommands: [
            ClientBenchmark.self, LocalKafkaBenchmark.self, MirrorBenchmark.self, FailoverBenchmark.self, ScenarioBenchmark.self, AgentIdleBenchmark.self,
            BenchBrokerCommand.self,
        ]
    )
}
