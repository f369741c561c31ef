import Foundation
import KafkaClient
import LocalKafka
import Logging
import Mirror
import Orchestrator
import Sites
import TestSupport
import Testing

/// Two sites (dc-a, dc-b), each its own LocalKafka broker, for the fencing and reconcile tests.
struct FencingLab {
    static let a = SiteID("dc-a")
    static let b = SiteID("dc-b")

    let endpoints: [SiteID: FlowEndpoint]
    let faults: [SiteID: FaultInjector]
    let directory: URL

    static let logger: Logger = {
        var logger = Logger(label: "fencing-test")
        logger.logLevel = .error
        return logger
    }()

    func endpoint(_ site: SiteID) -> FlowEndpoint { endpoints[site]! }
    func bootstrap(_ site: SiteID) -> String { endpoint(site).bootstrapServers[0] }

    func state(_ writer: SiteID = FencingLab.b) -> SiteStateTopic {
        SiteStateTopic(writer: writer, logger: Self.logger)
    }

    func fence(policy: NamingPolicy = .prefix, include: [String] = [".*"]) throws -> SiteFence {
        SiteFence(topics: try TopicSelection(include: include), naming: TopicNaming(policy: policy, knownSites: [Self.a, Self.b]),
                  state: state(), logger: Self.logger)
    }

    /// The flow `source → target` with fast intervals, its map cache under the lab's directory.
    func flow(from source: SiteID, to target: SiteID, policy: NamingPolicy) throws -> FlowConfiguration {
        let configuration = FlowConfiguration(
            source: endpoint(source), target: endpoint(target),
            naming: TopicNaming(policy: policy, knownSites: [Self.a, Self.b]),
            topics: try TopicSelection(include: [".*"]), groups: try GroupSelection(include: [".*"]),
            batching: FlowBatching(linger: .milliseconds(2), maxBatchRecords: 200),
            dataDirectory: directory.appendingPathComponent("\(source)-\(target)").path,
            mapStoreInterval: .milliseconds(50), provisioningInterval: .seconds(30),
            lagInterval: .milliseconds(200), retryBackoff: .milliseconds(200))
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        return configuration
    }

    func admin(_ site: SiteID) throws -> KafkaAdmin {
        try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [bootstrap(site)], logLevel: .error), logger: Self.logger)
    }

    func createTopic(_ name: String, partitions: Int32 = 1, at site: SiteID, configs: [String: String] = [:]) async throws {
        for (_, result) in try await admin(site).createTopics([NewTopic(name: KafkaClient.TopicName(name), partitions: partitions, configs: configs)]) {
            try result.get()
        }
    }

    /// A producer that reports the broker's first answer (no retries) with the given acks.
    func producer(at site: SiteID, acks: KafkaProducerConfiguration.Acks) throws -> KafkaProducer {
        var client = KafkaClientConfiguration(bootstrapServers: [bootstrap(site)], logLevel: .error)
        client.properties["message.send.max.retries"] = "0"
        return try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: client, idempotent: false, acks: acks, linger: .milliseconds(1)),
            logger: Self.logger)
    }

    /// Sends `values` to one partition; every send must succeed.
    func produce(_ values: [String], to topic: String, partition: Int32 = 0, at site: SiteID,
                 acks: KafkaProducerConfiguration.Acks = .all) async throws {
        let producer = try producer(at: site, acks: acks)
        let outcomes = try await producer.send(values.map { value in
            ProducerRecord(topic: KafkaClient.TopicName(topic), partition: KafkaClient.Partition(partition), key: "k-\(value)",
                           value: value, headers: [KafkaHeader(key: "app", string: value)])
        })
        await producer.shutdown()
        for outcome in outcomes { _ = try outcome.get() }
    }

    /// The first answer to one `acks=all` send: `nil` when it landed, else the error.
    func acksAllRefusal(_ topic: String, at site: SiteID) async throws -> KafkaError? {
        let producer = try producer(at: site, acks: .all)
        var refusal: KafkaError?
        do {
            _ = try await producer.send(ProducerRecord(topic: KafkaClient.TopicName(topic), partition: 0, value: "probe"))
        } catch {
            refusal = error
        }
        await producer.shutdown()
        return refusal
    }

    /// Every record of one partition up to its current end.
    func records(_ topic: String, partition: Int32 = 0, at site: SiteID) async throws -> [KafkaRecord] {
        let tp = KafkaClient.TopicPartition(KafkaClient.TopicName(topic), KafkaClient.Partition(partition))
        let marks = try await admin(site).watermarks(of: tp)
        guard marks.high > marks.low else { return [] }
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap(site)])
        configuration.client.logLevel = .error
        let consumer = try KafkaConsumer(configuration: configuration, logger: Self.logger)
        try await consumer.assign([tp: .offset(marks.low)])
        var found: [KafkaRecord] = []
        for try await record in consumer.records where record.topicPartition == tp {
            found.append(record)
            if record.offset.next >= marks.high { break }
        }
        await consumer.close()
        return found
    }

    /// The topic's own (dynamic) configs.
    func dynamicConfigs(_ topic: String, at site: SiteID) async throws -> [String: String] {
        let entries = try #require(try await admin(site).describeTopicConfigs([KafkaClient.TopicName(topic)])[KafkaClient.TopicName(topic)]).get()
        var configs: [String: String] = [:]
        for entry in entries where entry.source == .dynamicTopic { configs[entry.name] = entry.value }
        return configs
    }
}

/// Runs `body` with two fresh brokers.
func withFencingLab<T>(_ body: (FencingLab) async throws -> T) async throws -> T {
    let configure: (inout BrokerConfiguration) -> Void = { $0.autoCreateTopics = false }
    return try await withLocalKafka(configure: configure) { a in
        try await withLocalKafka(configure: configure) { b in
            try await withTemporaryDirectory(prefix: "fencing-test") { directory in
                let fast = ["retry.backoff.ms": "10", "topic.metadata.refresh.fast.interval.ms": "20", "fetch.error.backoff.ms": "10"]
                return try await body(FencingLab(
                    endpoints: [
                        FencingLab.a: FlowEndpoint(site: FencingLab.a, bootstrapServers: [a.bootstrapServers], properties: fast),
                        FencingLab.b: FlowEndpoint(site: FencingLab.b, bootstrapServers: [b.bootstrapServers], properties: fast),
                    ],
                    faults: [FencingLab.a: a.faults, FencingLab.b: b.faults], directory: directory))
            }
        }
    }
}

extension KafkaRecord {
    func header(_ key: String) -> String? {
        headers.last { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Polls `condition` until it holds, failing the test after `timeout`.
func eventually(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting until \(what)")
    throw CancellationError()
}
