import Foundation
import KafkaClient
import LocalKafka
import Logging
import Mirror
import Sites
import TestSupport
import Testing

/// Two sites, each a LocalKafka broker of its own, and the helpers the mirror tests share.
struct TwoSites {
    static let a = SiteID("dc-a")
    static let b = SiteID("dc-b")

    let brokerA: String
    let brokerB: String
    /// Fault injection into each site's broker (a slow link, failing requests).
    let faultsA: FaultInjector
    let faultsB: FaultInjector
    let directory: URL

    /// Short back-offs: a local broker answers at once, and tests should not wait out
    /// librdkafka's defaults tuned for real networks.
    static let fastProperties = [
        "retry.backoff.ms": "10", "topic.metadata.refresh.fast.interval.ms": "20", "fetch.error.backoff.ms": "10",
    ]

    func bootstrap(_ site: SiteID) -> String { site == Self.a ? brokerA : brokerB }

    /// A flow between the two sites, with short intervals so tests run fast.
    func flow(
        from source: SiteID, to target: SiteID, policy: NamingPolicy = .prefix,
        include: [String] = [".*"], exclude: [String] = [], groups: [String] = [".*"],
        dataDirectory: String? = nil
    ) throws -> FlowConfiguration {
        let configuration = FlowConfiguration(
            source: FlowEndpoint(site: source, bootstrapServers: [bootstrap(source)], properties: Self.fastProperties),
            target: FlowEndpoint(site: target, bootstrapServers: [bootstrap(target)], properties: Self.fastProperties),
            naming: TopicNaming(policy: policy, knownSites: [Self.a, Self.b]),
            topics: try TopicSelection(include: include, exclude: exclude),
            groups: try GroupSelection(include: groups),
            batching: FlowBatching(linger: .milliseconds(2), maxBatchRecords: 500),
            dataDirectory: dataDirectory ?? directory.appendingPathComponent("\(source)-\(target)").path,
            mapStoreInterval: .milliseconds(50),
            provisioningInterval: .seconds(30),
            lagInterval: .milliseconds(200),
            retryBackoff: .milliseconds(200))
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        return configuration
    }
}

/// Runs `body` with two fresh brokers (no topic auto-creation: the flow must provision).
func withTwoSites<T>(_ body: (TwoSites) async throws -> T) async throws -> T {
    let configure: (inout BrokerConfiguration) -> Void = { configuration in
        configuration.autoCreateTopics = false
        configuration.fsync = .always
    }
    return try await withLocalKafka(configure: configure) { a in
        try await withLocalKafka(configure: configure) { b in
            let result = try await withTemporaryDirectory(prefix: "mirror-test") { directory in
                try await body(TwoSites(brokerA: a.bootstrapServers, brokerB: b.bootstrapServers,
                                        faultsA: a.faults, faultsB: b.faults, directory: directory))
            }
            return result
        }
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "mirror-test")
    logger.logLevel = .error
    return logger
}()

func admin(_ bootstrap: String) throws -> KafkaAdmin {
    try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [bootstrap], logLevel: .error), logger: quietLogger)
}

func createTopic(_ name: String, partitions: Int32, on bootstrap: String, configs: [String: String] = [:]) async throws {
    let results = try await admin(bootstrap).createTopics([NewTopic(name: KafkaClient.TopicName(name), partitions: partitions, configs: configs)])
    for (_, result) in results { try result.get() }
}

/// Produces records; returns where each landed.
@discardableResult
func produce(_ records: [ProducerRecord], to bootstrap: String) async throws -> [DeliveredRecord] {
    var configuration = KafkaProducerConfiguration(bootstrapServers: [bootstrap])
    configuration.client.logLevel = .error
    let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
    let outcomes = try await producer.send(records)
    await producer.shutdown()
    return try outcomes.map { try $0.get() }
}

/// Every record of `topic` on `bootstrap`, per partition, read up to the current log ends.
func readAll(_ topic: String, on bootstrap: String) async throws -> [Int32: [KafkaRecord]] {
    let admin = try admin(bootstrap)
    guard let metadata = try await admin.listTopics()[KafkaClient.TopicName(topic)] else { return [:] }
    var ends: [KafkaClient.TopicPartition: KafkaClient.Offset] = [:]
    var starts: [KafkaClient.TopicPartition: StartOffset] = [:]
    for partition in metadata.partitions {
        let tp = KafkaClient.TopicPartition(KafkaClient.TopicName(topic), partition.partition)
        let marks = try await admin.watermarks(of: tp)
        if marks.high > marks.low {
            ends[tp] = marks.high
            starts[tp] = .earliest
        }
    }
    var result: [Int32: [KafkaRecord]] = [:]
    for partition in metadata.partitions { result[partition.partition.rawValue] = [] }
    guard !starts.isEmpty else { return result }
    var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap])
    configuration.client.logLevel = .error
    configuration.isolationLevel = .readUncommitted
    let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
    try await consumer.assign(starts)
    var remaining = Set(ends.keys)
    for try await record in consumer.records {
        guard let end = ends[record.topicPartition], record.offset < end else { continue }
        result[record.partition.rawValue, default: []].append(record)
        if record.offset.next >= end { remaining.remove(record.topicPartition) }
        if remaining.isEmpty { break }
    }
    await consumer.close()
    return result
}

/// Polls `condition` until it holds or `timeout` passes (then the test fails).
func waitUntil(
    _ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// The `switchback-source` position of a mirrored record.
func sourcePosition(of record: KafkaRecord) -> SourcePosition? {
    guard let bytes = record.headers.first(named: Provenance.sourceKey) ?? nil else { return nil }
    return try? SourcePosition(headerValue: bytes)
}

/// The origin site a record carries.
func origin(of record: KafkaRecord) -> String? {
    (record.headers.first(named: Provenance.originKey) ?? nil).map { String(decoding: $0, as: UTF8.self) }
}

/// Runs a flow in a task; returns the task (its value is the flow's outcome).
func start(_ flow: Flow) -> Task<Void, any Error> {
    Task { try await flow.run() }
}

/// Records of `count` with keys, values, a header and timestamps, spread over `partitions`.
func sampleRecords(topic: String, count: Int, partitions: Int32, tag: String = "r", from first: Int = 0) -> [ProducerRecord] {
    (first..<(first + count)).map { index in
        ProducerRecord(
            topic: KafkaClient.TopicName(topic), partition: KafkaClient.Partition(Int32(index) % partitions),
            key: Array("\(tag)-key-\(index)".utf8), value: Array("\(tag)-value-\(index)".utf8),
            headers: [KafkaHeader(key: "app", string: "\(tag)-\(index)")],
            timestamp: KafkaTimestamp(milliseconds: 1_700_000_000_000 + Int64(index)))
    }
}
