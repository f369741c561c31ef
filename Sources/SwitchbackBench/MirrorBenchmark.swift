import ArgumentParser
import Foundation
import KafkaClient
import LocalKafka
import Logging
import Metrics
import Mirror
import Sites
import Synchronization

/// Mirror throughput and lag on two in-process LocalKafka brokers, next to a plain
/// consume→produce loop written with KafkaClient over the same data and brokers, and the
/// offset map's size after 10 million records.
struct MirrorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Mirror throughput and lag against a plain consume→produce loop, on two in-process LocalKafka brokers."
    )

    @Option(help: "Records per record size.")
    var records = 200_000

    @Option(help: "Record value sizes in bytes, comma-separated.")
    var sizes = "100,1024"

    @Option(help: "Partitions of the benchmark topics.")
    var partitions: Int32 = 3

    @Option(help: "Rounds per record size (the best of each is reported; the loop and the flow take turns going first).")
    var rounds = 2

    @Option(help: "Input rate of the lag measurement, records per second.")
    var lagRate = 2_000

    @Option(help: "Length of the lag measurement, seconds.")
    var lagSeconds = 5

    @Option(help: "Records in the offset-map size measurement.")
    var mapRecords = 10_000_000

    func validate() throws {
        guard records > 0, partitions > 0, rounds > 0, lagRate > 0, lagSeconds > 0, mapRecords > 0 else {
            throw ValidationError("--records, --partitions, --rounds, --lag-rate, --lag-seconds and --map-records must be positive")
        }
        guard !parsedSizes.isEmpty, parsedSizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes must be positive integers separated by commas, for example 100,1024")
        }
    }

    private var parsedSizes: [Int] {
        sizes.split(separator: ",").compactMap { Int($0.trimmingPrefix(" ")) }
    }

    func run() async throws {
        var logger = Logger(label: "switchback.bench.mirror")
        logger.logLevel = .error
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("switchback-mirror-bench-\(UUID().uuidString.prefix(8))")
        let brokerA = try await Self.startBroker(root.appendingPathComponent("a"), logger: logger)
        let brokerB = try await Self.startBroker(root.appendingPathComponent("b"), logger: logger)
        let runningA = Task { try await brokerA.run() }
        let runningB = Task { try await brokerB.run() }
        do {
            try await measure(root: root, brokerA: brokerA, brokerB: brokerB, logger: logger)
        } catch {
            await Self.stop(runningA, runningB, root: root)
            throw error
        }
        await Self.stop(runningA, runningB, root: root)
    }

    /// Stops the brokers (they flush and close their logs), then removes their data.
    static func stop(_ brokers: Task<Void, any Error>..., root: URL) async {
        for broker in brokers { broker.cancel() }
        for broker in brokers { _ = try? await broker.value }
        try? FileManager.default.removeItem(at: root)
    }

    private func measure(root: URL, brokerA: LocalKafkaBroker, brokerB: LocalKafkaBroker, logger: Logger) async throws {
        let sites = BenchSites(a: brokerA.bootstrapServers, b: brokerB.bootstrapServers, dataDirectory: root.appendingPathComponent("mirror").path)
        try FileManager.default.createDirectory(atPath: sites.dataDirectory, withIntermediateDirectories: true)

        print("Mirror benchmark: two in-process LocalKafka brokers, librdkafka \(Librdkafka.version)")
        print("\(records) records per size, \(partitions) partitions, lz4, idempotent producer (acks=all), best of \(rounds) round(s)\n")
        var rows: [ThroughputTable.Row] = []
        var ratios: [(Int, Double)] = []
        var totals: [(Int, Duration, Duration)] = []
        for size in parsedSizes {
            // Each round copies a topic of its own (a flow never copies a record twice), the
            // loop and the flow taking turns to go first; the best round of each is reported.
            var mirrorBest = CopyTime.worst
            var loopBest = CopyTime.worst
            func better(_ a: CopyTime, _ b: CopyTime) -> CopyTime { a.rate(records) >= b.rate(records) ? a : b }
            for round in 0..<rounds {
                let topic = "bench-\(size)-\(round)"
                try await createTopic(topic, on: sites.a, logger: logger)
                try await produceInput(topic: topic, size: size, on: sites.a, logger: logger)
                if round % 2 == 0 {
                    mirrorBest = better(mirrorBest, try await mirror(topic: topic, sites: sites, logger: logger))
                    loopBest = better(loopBest, try await baseline(topic: topic, sites: sites, logger: logger))
                } else {
                    loopBest = better(loopBest, try await baseline(topic: topic, sites: sites, logger: logger))
                    mirrorBest = better(mirrorBest, try await mirror(topic: topic, sites: sites, logger: logger))
                }
            }
            let mirrorRow = ThroughputTable.Row(operation: "mirror (Flow)", recordSize: size, records: records - mirrorBest.firstBatch, duration: mirrorBest.steady)
            let baselineRow = ThroughputTable.Row(operation: "consume→produce loop", recordSize: size, records: records - loopBest.firstBatch, duration: loopBest.steady)
            rows += [mirrorRow, baselineRow]
            ratios.append((size, baselineRow.recordsPerSecond > 0 ? mirrorRow.recordsPerSecond / baselineRow.recordsPerSecond : 0))
            totals.append((size, mirrorBest.total, loopBest.total))
        }
        print(ThroughputTable(rows: rows).rendered)
        for (size, ratio) in ratios {
            print("mirror / loop throughput at \(size) B: \(TextTable.format(ratio, decimals: 2))")
        }
        print("Steady state: from the first acknowledged batch to the last (records in that batch not counted).")
        print("Start-up included (the flow also provisions, loads its map and finds where to resume):")
        for (size, mirrorTotal, loopTotal) in totals {
            print("  \(size) B: mirror \(TextTable.format(CopyTime.seconds(mirrorTotal), decimals: 3)) s, "
                + "loop \(TextTable.format(CopyTime.seconds(loopTotal), decimals: 3)) s")
        }
        print("")

        let lag = try await measureLag(sites: sites, logger: logger)
        print("Mirror lag at a steady \(lagRate) records/s for \(lagSeconds) s (100 B records, source timestamp → target ack):")
        print("  samples \(lag.count), p50 \(lag.percentile(0.5)) ms, p99 \(lag.percentile(0.99)) ms, max \(lag.last ?? 0) ms\n")

        print(try runOffsetMapBenchmark(records: mapRecords, gapEvery: 1_000, lookups: 1_000_000))
    }

    // MARK: Set-up

    struct BenchSites {
        var a: String
        var b: String
        var dataDirectory: String
    }

    static func startBroker(_ directory: URL, logger: Logger) async throws -> LocalKafkaBroker {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = BrokerConfiguration(dataDirectory: directory, port: 0)
        configuration.autoCreateTopics = false
        return try await LocalKafkaBroker.start(configuration: configuration, logger: logger)
    }

    func createTopic(_ topic: String, on bootstrap: String, logger: Logger) async throws {
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [bootstrap], logLevel: .error), logger: logger)
        for (_, result) in try await admin.createTopics([NewTopic(name: KafkaClient.TopicName(topic), partitions: partitions)]) {
            try result.get()
        }
    }

    func produceInput(topic: String, size: Int, on bootstrap: String, logger: Logger) async throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [bootstrap]), logger: logger)
        let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 3)) }
        for start in stride(from: 0, to: records, by: 10_000) {
            let batch = (start..<min(records, start + 10_000)).map { index in
                ProducerRecord(topic: KafkaClient.TopicName(topic), partition: KafkaClient.Partition(Int32(index) % partitions),
                               key: Array("key-\(index)".utf8), value: value)
            }
            for outcome in try await producer.send(batch) { _ = try outcome.get() }
        }
        await producer.shutdown()
    }

    func flowConfiguration(_ sites: BenchSites, include: [String]) throws -> FlowConfiguration {
        let a: SiteID = "dc-a"
        let b: SiteID = "dc-b"
        return FlowConfiguration(
            source: FlowEndpoint(site: a, bootstrapServers: [sites.a]),
            target: FlowEndpoint(site: b, bootstrapServers: [sites.b]),
            naming: TopicNaming(policy: .prefix, knownSites: [a, b]),
            topics: try TopicSelection(include: include), groups: try GroupSelection(),
            batching: FlowBatching(), dataDirectory: sites.dataDirectory)
    }

    // MARK: Throughput

    /// How long a copy took: from start-up, and from its first acknowledged batch (steady state).
    struct CopyTime {
        var total: Duration
        var steady: Duration
        /// Records acknowledged with the first batch (not part of the steady-state count).
        var firstBatch: Int

        static let worst = CopyTime(total: .seconds(Int64.max), steady: .seconds(Int64.max), firstBatch: 0)

        func rate(_ records: Int) -> Double { Self.seconds(steady) > 0 ? Double(records - firstBatch) / Self.seconds(steady) : 0 }
        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }

    /// A flow copying `topic`, from start-up until drained.
    func mirror(topic: String, sites: BenchSites, logger: Logger) async throws -> CopyTime {
        let progress = CopyProgress()
        let flow = Flow(configuration: try flowConfiguration(sites, include: [topic]), logger: logger, metricsFactory: progress)
        let clock = ContinuousClock()
        let start = clock.now
        let running = Task { try await flow.run() }
        try await flow.drain()
        let elapsed = clock.now - start
        try await running.value
        let copied = flow.status.positions.values.reduce(Int64(0)) { $0 + $1.rawValue }
        guard copied == Int64(records) else { throw ValidationError("the flow copied \(copied) of \(records) records") }
        let (steady, firstBatch) = progress.steady
        return CopyTime(total: elapsed, steady: steady, firstBatch: firstBatch)
    }

    /// What any user could write: read the source with KafkaClient, send each batch of read
    /// records to the target with the same producer settings, until everything is acknowledged.
    func baseline(topic: String, sites: BenchSites, logger: Logger) async throws -> CopyTime {
        let target = KafkaClient.TopicName("loop-\(topic)")
        try await createTopic(target.rawValue, on: sites.b, logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: [sites.a])
        consumerConfiguration.maxRecordsPerPoll = 5_000
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: [sites.b])
        producerConfiguration.linger = .milliseconds(20)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        let assignment = (0..<partitions).map { KafkaClient.TopicPartition(KafkaClient.TopicName(topic), KafkaClient.Partition($0)) }
        try await consumer.assign(Dictionary(uniqueKeysWithValues: assignment.map { ($0, StartOffset.earliest) }))
        var batch: [ProducerRecord] = []
        var sent = 0
        var firstAck: ContinuousClock.Instant?
        var firstBatch = 0
        for try await record in consumer.records {
            batch.append(ProducerRecord(topic: target, partition: record.partition, key: record.key, value: record.value,
                                        headers: record.headers, timestamp: record.timestamp))
            if batch.count == 5_000 || sent + batch.count == records {
                for outcome in try await producer.send(batch) { _ = try outcome.get() }
                sent += batch.count
                if firstAck == nil {
                    firstAck = clock.now
                    firstBatch = batch.count
                }
                batch.removeAll(keepingCapacity: true)
                if sent == records { break }
            }
        }
        let end = clock.now
        await consumer.close()
        await producer.shutdown()
        return CopyTime(total: end - start, steady: end - (firstAck ?? start), firstBatch: firstBatch)
    }

    // MARK: Lag

    /// Per-record lag in milliseconds while records arrive at `lagRate`, sorted.
    func measureLag(sites: BenchSites, logger: Logger) async throws -> [Int64] {
        let topic = "lag"
        try await createTopic(topic, on: sites.a, logger: logger)
        let lags = LagRecording()
        let flow = Flow(configuration: try flowConfiguration(sites, include: [topic]), logger: logger, metricsFactory: lags)
        let running = Task { try await flow.run() }
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: [sites.a])
        producerConfiguration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        let value = [UInt8](repeating: 7, count: 100)
        let tick = Duration.milliseconds(10)
        let perTick = max(1, lagRate / 100)
        let clock = ContinuousClock()
        // One second of warm-up (connections, producer ids, first fetch), then the measurement.
        let warmUpTicks = 100
        let ticks = warmUpTicks + lagSeconds * 100
        var next = clock.now
        var index = 0
        for tickIndex in 0..<ticks {
            if tickIndex == warmUpTicks {
                try await producer.flush(timeout: .seconds(30))
                try await waitUntilCopied(flow, count: Int64(index))
                lags.start()
            }
            let batch = (0..<perTick).map { offset in
                ProducerRecord(topic: KafkaClient.TopicName(topic), partition: KafkaClient.Partition(Int32(index + offset) % partitions),
                               value: value, timestamp: KafkaTimestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
            }
            index += perTick
            Task { _ = try? await producer.send(batch) }
            next += tick
            try await clock.sleep(until: next)
        }
        try await producer.flush(timeout: .seconds(30))
        await producer.shutdown()
        try await flow.drain()
        try await running.value
        return lags.sorted
    }

    private func waitUntilCopied(_ flow: Flow, count: Int64) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while flow.status.positions.values.reduce(Int64(0), { $0 + $1.rawValue }) < count {
            guard ContinuousClock.now < deadline else { throw ValidationError("the flow did not catch up during warm-up") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

extension [Int64] {
    /// The value at quantile `q` of a sorted array (nearest rank).
    func percentile(_ q: Double) -> Int64 {
        guard !isEmpty else { return 0 }
        let rank = Int((q * Double(count)).rounded(.up)) - 1
        return self[Swift.min(count - 1, Swift.max(0, rank))]
    }
}

// MARK: - Progress and lag samples

/// Records when the flow's first and last copies were acknowledged (steady-state throughput).
final class CopyProgress: MetricsFactory, Sendable {
    private let state = Mutex<(first: ContinuousClock.Instant?, firstCount: Int, last: ContinuousClock.Instant?, count: Int)>((nil, 0, nil, 0))

    /// From the first acknowledged batch to the last copy, and the records in that first batch.
    var steady: (Duration, Int) {
        state.withLock { state in
            guard let first = state.first, let last = state.last else { return (.zero, 0) }
            return (last - first, state.firstCount)
        }
    }

    private final class Copies: CounterHandler, Sendable {
        let owner: CopyProgress
        init(owner: CopyProgress) { self.owner = owner }
        func increment(by amount: Int64) {
            let now = ContinuousClock.now
            owner.state.withLock { state in
                // A batch's reports are recorded together: copies within a millisecond of the
                // first belong to the first batch.
                if state.first == nil { state.first = now }
                if let first = state.first, now - first < .milliseconds(1) { state.firstCount += Int(amount) }
                state.last = now
                state.count += Int(amount)
            }
        }
        func reset() {}
    }

    private let discard = LagRecording()

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        label == "switchback_mirror_records_total" ? Copies(owner: self) : discard.makeCounter(label: label, dimensions: dimensions)
    }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        discard.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        discard.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { discard.makeMeter(label: label, dimensions: dimensions) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { discard.makeTimer(label: label, dimensions: dimensions) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}


/// A metrics factory that keeps the flow's lag samples (milliseconds) once started, and
/// discards every other metric.
final class LagRecording: MetricsFactory, Sendable {
    private let samples = Mutex<(recording: Bool, values: [Int64])>((false, []))

    func start() { samples.withLock { $0.recording = true } }

    var sorted: [Int64] { samples.withLock { $0.values.sorted() } }

    private final class LagTimer: TimerHandler, Sendable {
        let owner: LagRecording
        init(owner: LagRecording) { self.owner = owner }
        func recordNanoseconds(_ duration: Int64) {
            owner.samples.withLock { state in
                if state.recording { state.values.append(duration / 1_000_000) }
            }
        }
    }

    private final class Discard: CounterHandler, FloatingPointCounterHandler, RecorderHandler, TimerHandler, MeterHandler, Sendable {
        func increment(by: Int64) {}
        func increment(by: Double) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
        func set(_ value: Int64) {}
        func set(_ value: Double) {}
        func decrement(by: Double) {}
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Discard() }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { Discard() }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Discard() }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { Discard() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "switchback_mirror_lag_ms" ? LagTimer(owner: self) : Discard()
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
