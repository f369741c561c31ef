import ArgumentParser
import Foundation
import KafkaClient
import LocalKafka
import Logging
import Metrics
import Mirror
import Sites
import Synchronization

/// Mirror throughput and lag on two LocalKafka brokers, next to two baselines over the same
/// data and brokers — a consume→produce pipe written directly against librdkafka's C API
/// (``CPipe``, the plainest possible mirror) and a loop written with KafkaClient — optionally
/// through a simulated WAN link, and the offset map's size after 10 million records.
struct MirrorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Mirror throughput and lag against a librdkafka C pipe and a KafkaClient loop, on two LocalKafka brokers.",
        discussion: """
            Each record size copies the same input three ways, the three taking turns to go first: \
            the mirror (a Flow), the C pipe, and the KafkaClient loop. The figure to read is \
            mirror ÷ C pipe. With --wan-rtt the source broker is reached through a user-space \
            proxy that adds that round trip (half each way) and, with --wan-bandwidth, caps each \
            direction; the bytes that crossed it are reported per record.

            Examples:
              swift run -c release switchback-bench mirror
              swift run -c release switchback-bench mirror --wan-rtt 50ms --wan-bandwidth 100MB
            """
    )

    @Option(help: "Where the two LocalKafka brokers run: process (child processes) or in-process.")
    var brokers: MirrorBenchClusters.Placement = .process

    @Option(help: "Round trip of a simulated WAN link in front of the source broker, e.g. 50ms (default: none).")
    var wanRtt: String?

    @Option(help: "Bandwidth of the simulated link per direction, e.g. 100MB or 12.5MB (bytes per second; needs --wan-rtt).")
    var wanBandwidth: String?

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
        _ = try linkSettings
        guard records > 0, partitions > 0, rounds > 0, lagRate > 0, lagSeconds > 0, mapRecords > 0 else {
            throw ValidationError("--records, --partitions, --rounds, --lag-rate, --lag-seconds and --map-records must be positive")
        }
        guard !parsedSizes.isEmpty, parsedSizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes must be positive integers separated by commas, for example 100,1024")
        }
    }

    /// The simulated link, from --wan-rtt and --wan-bandwidth.
    var linkSettings: LinkProxy.Settings? {
        get throws {
            guard let wanRtt else {
                if wanBandwidth != nil { throw ValidationError("--wan-bandwidth needs --wan-rtt (the link's round trip)") }
                return nil
            }
            guard wanRtt.hasSuffix("ms"), let milliseconds = Int(wanRtt.dropLast(2)), milliseconds >= 0 else {
                throw ValidationError("--wan-rtt \(wanRtt): write the round trip in milliseconds, e.g. 50ms")
            }
            var rate: Int?
            if let wanBandwidth {
                guard wanBandwidth.hasSuffix("MB"), let megabytes = Double(wanBandwidth.dropLast(2)), megabytes > 0 else {
                    throw ValidationError("--wan-bandwidth \(wanBandwidth): write megabytes per second, e.g. 100MB or 12.5MB")
                }
                rate = Int(megabytes * 1_000_000)
            }
            return LinkProxy.Settings(roundTrip: .milliseconds(milliseconds), bytesPerSecond: rate)
        }
    }

    private var parsedSizes: [Int] {
        sizes.split(separator: ",").compactMap { Int($0.trimmingPrefix(" ")) }
    }

    func run() async throws {
        var logger = Logger(label: "switchback.bench.mirror")
        logger.logLevel = .error
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("switchback-mirror-bench-\(UUID().uuidString.prefix(8))")
        let clusters = try await MirrorBenchClusters.start(placement: brokers, link: try linkSettings, root: root, logger: logger)
        do {
            try await measure(root: root, clusters: clusters, logger: logger)
        } catch {
            await clusters.stop()
            try? FileManager.default.removeItem(at: root)
            throw error
        }
        await clusters.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// The three ways of copying a topic that the benchmark compares.
    enum Copier: String, CaseIterable {
        case mirror = "mirror (Flow)"
        case cPipe = "C pipe (librdkafka API)"
        case loop = "KafkaClient loop"
    }

    private func measure(root: URL, clusters: MirrorBenchClusters, logger: Logger) async throws {
        let sites = BenchSites(a: clusters.source, b: clusters.target, dataDirectory: root.appendingPathComponent("mirror").path)
        try FileManager.default.createDirectory(atPath: sites.dataDirectory, withIntermediateDirectories: true)

        print("Mirror benchmark: two LocalKafka brokers (\(brokers.rawValue)), librdkafka \(Librdkafka.version)")
        if let link = clusters.link { print("Source reached through a simulated link: \(link.settings)") }
        print("\(records) records per size, \(partitions) partitions, lz4, idempotent producer (acks=all), best of \(rounds) round(s)\n")
        var rows: [ThroughputTable.Row] = []
        var ratios: [(Int, Double, Double)] = []
        var totals: [(Int, [Copier: Duration])] = []
        var linkBytes: [(Int, [Copier: Double])] = []
        for size in parsedSizes {
            // Each round copies a topic of its own (a flow never copies a record twice), the
            // three copiers taking turns to go first; the best round of each is reported.
            var best: [Copier: CopyTime] = [:]
            var bytesPerRecord: [Copier: Double] = [:]
            for round in 0..<rounds {
                let topic = "bench-\(size)-\(round)"
                try await createTopic(topic, on: sites.a, logger: logger)
                try await produceInput(topic: topic, size: size, on: sites.a, logger: logger)
                let order = Copier.allCases.indices.map { Copier.allCases[($0 + round) % Copier.allCases.count] }
                for copier in order {
                    let before = clusters.link?.counters.snapshot
                    let time: CopyTime
                    switch copier {
                    case .mirror: time = try await mirror(topic: topic, sites: sites, logger: logger)
                    case .cPipe: time = try await cPipe(topic: topic, sites: sites, logger: logger)
                    case .loop: time = try await baseline(topic: topic, sites: sites, logger: logger)
                    }
                    if let before, let after = clusters.link?.counters.snapshot {
                        let crossed = (after.toBroker - before.toBroker) + (after.fromBroker - before.fromBroker)
                        bytesPerRecord[copier] = min(bytesPerRecord[copier] ?? .infinity, Double(crossed) / Double(records))
                    }
                    if let current = best[copier], current.rate(records) >= time.rate(records) { continue }
                    best[copier] = time
                }
            }
            var rates: [Copier: Double] = [:]
            for copier in Copier.allCases {
                guard let time = best[copier] else { continue }
                let row = ThroughputTable.Row(operation: copier.rawValue, recordSize: size, records: records - time.firstBatch, duration: time.steady)
                rows.append(row)
                rates[copier] = row.recordsPerSecond
            }
            func ratio(_ other: Copier) -> Double { (rates[other] ?? 0) > 0 ? (rates[.mirror] ?? 0) / (rates[other] ?? 1) : 0 }
            ratios.append((size, ratio(.cPipe), ratio(.loop)))
            totals.append((size, best.mapValues(\.total)))
            linkBytes.append((size, bytesPerRecord))
        }
        print(ThroughputTable(rows: rows).rendered)
        for (size, cPipe, loop) in ratios {
            print("at \(size) B: mirror ÷ C pipe \(TextTable.format(cPipe, decimals: 2)), mirror ÷ KafkaClient loop \(TextTable.format(loop, decimals: 2))")
        }
        print("Steady state: from the first acknowledged batch to the last (records in that batch not counted).")
        print("Start-up included (the flow also provisions, loads its map and finds where to resume):")
        for (size, times) in totals {
            let parts = Copier.allCases.compactMap { copier in times[copier].map { "\(copier.rawValue) \(TextTable.format(CopyTime.seconds($0), decimals: 3)) s" } }
            print("  \(size) B: " + parts.joined(separator: ", "))
        }
        if clusters.link != nil {
            print("Bytes that crossed the link per record (both directions, compressed batches and protocol overhead):")
            for (size, perRecord) in linkBytes {
                let parts = Copier.allCases.compactMap { copier in perRecord[copier].map { "\(copier.rawValue) \(TextTable.format($0, decimals: 1))" } }
                print("  \(size) B: " + parts.joined(separator: ", "))
            }
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

    func createTopic(_ topic: String, on bootstrap: String, logger: Logger) async throws {
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [bootstrap], logLevel: .error), logger: logger)
        for (_, result) in try await admin.createTopics([NewTopic(name: KafkaClient.TopicName(topic), partitions: partitions)]) {
            try result.get()
        }
    }

    func produceInput(topic: String, size: Int, on bootstrap: String, logger: Logger) async throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [bootstrap]), logger: logger)
        for start in stride(from: 0, to: records, by: 10_000) {
            let batch = (start..<min(records, start + 10_000)).map { index in
                ProducerRecord(topic: KafkaClient.TopicName(topic), partition: KafkaClient.Partition(Int32(index) % partitions),
                               key: Array("key-\(index)".utf8), value: Self.value(size: size, seed: UInt64(index)))
            }
            for outcome in try await producer.send(batch) { _ = try outcome.get() }
        }
        await producer.shutdown()
    }

    /// A record value of `size` bytes that compresses as text does, not as a repeated
    /// constant: letters and digits drawn from a seeded generator (lz4 leaves most of it: the bytes are spread over 37 symbols), so
    /// the bytes that cross the simulated link are not flattered by identical records.
    static func value(size: Int, seed: UInt64) -> [UInt8] {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 ".utf8)
        // SplitMix64, its start scrambled by the seed so records are not shifted copies of
        // one another (which lz4 would find across a batch).
        func mix(_ value: UInt64) -> UInt64 {
            var z = value
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var state = mix(seed &+ 0x5851_F42D_4C95_7F2D)
        return (0..<size).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            return alphabet[Int(mix(state) % UInt64(alphabet.count))]
        }
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

    /// The librdkafka C pipe (``CPipe``) copying `topic` with the mirror's batching settings.
    func cPipe(topic: String, sites: BenchSites, logger: Logger) async throws -> CopyTime {
        let target = "c-pipe-\(topic)"
        try await createTopic(target, on: sites.b, logger: logger)
        let batching = FlowBatching()
        return try await CPipe.copyOnThread(
            topic: topic, partitions: partitions, records: records, source: sites.a, target: sites.b, targetTopic: target,
            linger: batching.linger, batchBytes: batching.batchBytes)
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
