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

    @Option(help: "Records to produce and then consume, per record size.")
    var records = 200_000

    @Option(help: "Record value sizes in bytes, comma-separated.")
    var sizes = "100,1024"

    @Option(help: "Partitions of the benchmark topic.")
    var partitions: Int32 = 3

    @Option(help: "Records per send call.")
    var batch = 10_000

    @Option(help: "Send calls in flight at once.")
    var concurrency = 4

    @Option(help: "Producer compression: none, gzip, snappy, lz4, zstd.")
    var compression = "lz4"

    func validate() throws {
        guard (1...100_000_000).contains(records) else { throw ValidationError("--records must be between 1 and 100000000") }
        guard batch > 0, concurrency > 0 else { throw ValidationError("--batch and --concurrency must be positive") }
        guard partitions > 0 else { throw ValidationError("--partitions must be positive") }
        guard KafkaProducerConfiguration.Compression(rawValue: compression) != nil else {
            throw ValidationError("--compression must be one of none, gzip, snappy, lz4, zstd")
        }
        guard !parsedSizes.isEmpty, parsedSizes.allSatisfy({ (1...10_000_000).contains($0) }) else {
            throw ValidationError("--sizes must be integers from 1 to 10000000 separated by commas, for example 100,1024")
        }
    }

    private var parsedSizes: [Int] {
        sizes.split(separator: ",").compactMap { Int($0.trimmingPrefix(" ")) }
    }

    func run() async throws {
        var logger = Logger(label: "switchback.bench")
        logger.logLevel = .error
        let cluster = try MockKafkaCluster(brokers: 1, logger: logger)
        print("KafkaClient throughput, librdkafka \(Librdkafka.version) mock cluster (1 broker, in-process)")
        print("\(records) records per size, \(partitions) partitions, batches of \(batch), \(concurrency) in flight, compression \(compression)\n")

        var rows: [ThroughputTable.Row] = []
        var trimmed = false
        for size in parsedSizes {
            let topic = TopicName("bench-\(size)-\(UInt32.random(in: 0...UInt32.max))")
            try cluster.createTopic(topic, partitions: partitions)
            let produced = try await produce(size: size, to: topic, cluster: cluster, logger: logger)
            rows.append(.init(operation: "produce", recordSize: size, records: records, duration: produced))
            let (consumed, count) = try await consume(size: size, from: topic, cluster: cluster, logger: logger)
            rows.append(.init(operation: "consume", recordSize: size, records: count, duration: consumed))
            trimmed = trimmed || count < records
        }
        print(ThroughputTable(rows: rows).rendered)
        if trimmed {
            print("The mock cluster keeps only about the last 5 MiB of each partition, so fewer records were there to consume.")
        }
    }

    private func produce(size: Int, to topic: TopicName, cluster: MockKafkaCluster, logger: Logger) async throws -> Duration {
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.compression = KafkaProducerConfiguration.Compression(rawValue: compression) ?? .lz4
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        // Random bytes, the same in every record but for its sequence number up front: with
        // compression on, batches of such records compress better than real data would.
        var generator = SystemRandomNumberGenerator()
        let body = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let batches = stride(from: 0, to: records, by: batch).map { start in
            (start..<min(records, start + batch)).map { index in
                var value = body
                withUnsafeBytes(of: UInt64(index).bigEndian) { sequence in
                    for (position, byte) in sequence.prefix(size).enumerated() { value[position] = byte }
                }
                return ProducerRecord(topic: topic, key: Array("key-\(index)".utf8), value: value)
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var failures = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            var pending = batches.makeIterator()
            for _ in 0..<concurrency {
                guard let next = pending.next() else { break }
                group.addTask { try await producer.send(next).filter { (try? $0.get()) == nil }.count }
            }
            while let failed = try await group.next() {
                failures += failed
                if let next = pending.next() {
                    group.addTask { try await producer.send(next).filter { (try? $0.get()) == nil }.count }
                }
            }
        }
        let elapsed = clock.now - start
        await producer.shutdown()
        guard failures == 0 else { throw ValidationError("\(failures) of \(records) records were not delivered") }
        return elapsed
    }

    /// Reads every record the partitions hold (log start to log end) and returns the time it
    /// took and how many there were.
    private func consume(size: Int, from topic: TopicName, cluster: MockKafkaCluster, logger: Logger) async throws
        -> (Duration, Int)
    {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.maxRecordsPerPoll = 10_000
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let partitionList = (0..<partitions).map { TopicPartition(topic, Partition($0)) }
        var stored = 0
        for partition in partitionList {
            stored += Int(try await consumer.watermarks(of: partition).count)
        }
        try await consumer.assign(Dictionary(uniqueKeysWithValues: partitionList.map { ($0, StartOffset.earliest) }))
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        var bytes = 0
        if stored > 0 {
            for try await record in consumer.records {
                count += 1
                bytes += record.value?.count ?? 0
                if count == stored { break }
            }
        }
        let elapsed = clock.now - start
        await consumer.close()
        guard bytes == count * size else {
            throw ValidationError("consumed \(count) records of \(bytes) bytes in all, expected \(size) bytes each")
        }
        return (elapsed, count)
    }
}
