import ArgumentParser
import KafkaClient
import Logging

/// The produce-then-consume workload every throughput benchmark runs, whatever the cluster:
/// one definition, so figures for different clusters are comparable.
struct ThroughputWorkload: ParsableArguments {
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
        guard records > 0 else { throw ValidationError("--records must be positive") }
        guard batch > 0, concurrency > 0 else { throw ValidationError("--batch and --concurrency must be positive") }
        guard partitions > 0 else { throw ValidationError("--partitions must be positive") }
        guard KafkaProducerConfiguration.Compression(rawValue: compression) != nil else {
            throw ValidationError("--compression must be one of none, gzip, snappy, lz4, zstd")
        }
        guard !recordSizes.isEmpty, recordSizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes must be positive integers separated by commas, for example 100,1024")
        }
    }

    var recordSizes: [Int] {
        sizes.split(separator: ",").compactMap { Int($0.trimmingPrefix(" ")) }
    }

    var summary: String {
        "\(records) records per size, \(partitions) partitions, batches of \(batch), \(concurrency) in flight, compression \(compression)"
    }

    /// A topic name no earlier run used, so runs on a kept data directory do not mix.
    func freshTopic(size: Int) -> TopicName {
        TopicName("bench-\(size)-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Produces `records` values of `size` bytes to `topic` and returns how long it took until
    /// the last delivery report.
    func produce(size: Int, to topic: TopicName, bootstrapServers: [String], logger: Logger) async throws -> Duration {
        var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        configuration.compression = KafkaProducerConfiguration.Compression(rawValue: compression) ?? .lz4
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        // Varied bytes, so compression sees realistic rather than trivially repetitive input.
        let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 3)) }
        let batches = stride(from: 0, to: records, by: batch).map { start in
            (start..<min(records, start + batch)).map { index in
                ProducerRecord(topic: topic, key: Array("key-\(index)".utf8), value: value)
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

    /// Reads `records` values of `size` bytes back from every partition of `topic` and returns
    /// how long it took.
    func consume(size: Int, from topic: TopicName, bootstrapServers: [String], logger: Logger) async throws -> Duration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers)
        configuration.maxRecordsPerPoll = 10_000
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let partitionList = (0..<partitions).map { TopicPartition(topic, Partition($0)) }
        try await consumer.assign(Dictionary(uniqueKeysWithValues: partitionList.map { ($0, StartOffset.earliest) }))
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        var bytes = 0
        for try await record in consumer.records {
            count += 1
            bytes += record.value?.count ?? 0
            if count == records { break }
        }
        let elapsed = clock.now - start
        await consumer.close()
        guard count == records, bytes == records * size else {
            throw ValidationError("consumed \(count) records (\(bytes) bytes), expected \(records) of \(size) bytes")
        }
        return elapsed
    }
}
