import Foundation
import KafkaClient
import KafkaWire
import LocalKafka
import NIOCore
import Testing
import TestSupport

/// Independent clients read a topic LocalKafka has compacted: offsets with gaps between and
/// inside batches, and a batch emptied of records (kept for its producer's state).
@Suite(.timeLimit(.minutes(3))) struct CompactedTopicReadTests {
    struct Written: Equatable {
        var offset: Int64
        var key: String
        var value: String
        var header: String
        var timestamp: Int64
    }

    /// Two idempotent producers: the first writes five keys, the second overwrites them and adds
    /// unique keys, rolling several 400-byte segments; then the topic is compacted.
    static func writeAndCompact(_ broker: LocalKafkaBroker, _ topic: TopicName) async throws -> [Written] {
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [broker.bootstrapServers]))
        try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["cleanup.policy": "compact", "segment.bytes": "400"])])
        var written: [Written] = []
        let plain: (inout KafkaProducerConfiguration) -> Void = { $0.compression = .none }
        func send(_ producer: KafkaProducer, key: String, value: String, timestamp: Int64) async throws {
            let record = ProducerRecord(
                topic: topic, partition: 0, key: key, value: value,
                headers: [KafkaHeader(key: "origin", value: Array("\(value)-h".utf8))],
                timestamp: KafkaTimestamp(milliseconds: timestamp)
            )
            let delivered = try await producer.send(record)
            written.append(Written(offset: delivered.offset.rawValue, key: key, value: value, header: "origin=\(value)-h", timestamp: timestamp))
        }
        try await withProducer(broker.bootstrapServers, configure: plain) { first in
            for index in 0..<5 { try await send(first, key: "a\(index)", value: "first\(index)", timestamp: 1_700_000_000_000 + Int64(index)) }
        }
        try await withProducer(broker.bootstrapServers, configure: plain) { second in
            for index in 0..<30 {
                let key = index % 3 == 0 ? "a\(index % 5)" : "b\(index)"
                try await send(second, key: key, value: "second\(index)", timestamp: 1_700_000_001_000 + Int64(index))
            }
        }
        let report = try await broker.compact(topic: topic.rawValue)
        #expect(report.recordsRemoved >= 5)
        return written
    }

    /// Every batch header of the partition's segment files.
    static func storedBatches(_ dataDirectory: URL, _ topic: TopicName) throws -> [RecordBatchHeader] {
        let directory = dataDirectory.appendingPathComponent("topics/\(topic.rawValue)-0")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".log") }.sorted()
        var headers: [RecordBatchHeader] = []
        for name in names {
            let bytes = ByteBuffer(bytes: try Data(contentsOf: directory.appendingPathComponent(name)))
            headers += try RecordBatchSequence(splitting: bytes).batches.map(\.header)
        }
        return headers
    }

    /// What KafkaClient (librdkafka) reads from `start` to the partition's end.
    static func readWithKafkaClient(_ bootstrap: String, _ topic: TopicName, from start: StartOffset, until last: Int64) async throws -> [KafkaRecord] {
        try await withConsumer(bootstrap) { consumer in
            try await consumer.assign([TopicPartition(topic, 0): start])
            return try await KafkaClientSupportDeadline.run(.seconds(45), "reading \(topic) to offset \(last)") {
                var records: [KafkaRecord] = []
                for try await record in consumer.records {
                    records.append(record)
                    if record.offset.rawValue >= last { break }
                }
                return records
            }
        }
    }

    @Test func librdkafkaAndKcatReadACompactedTopicFromTheStartAndFromInsideAGap() async throws {
        var dataDirectory: URL?
        try await withLocalKafka(configure: { dataDirectory = $0.dataDirectory }) { broker in
            let topic = uniqueTopic("compacted")
            let written = try await Self.writeAndCompact(broker, topic)
            var latest: [String: Int64] = [:]
            for record in written { latest[record.key] = record.offset }
            let last = try #require(written.last?.offset)

            // The first producer's records are all overwritten; its last batch stays, empty.
            let batches = try Self.storedBatches(try #require(dataDirectory), topic)
            #expect(batches.contains { $0.recordsCount == 0 && $0.hasProducerId }, "no emptied producer batch: \(batches)")

            let fromStart = try await Self.readWithKafkaClient(broker.bootstrapServers, topic, from: .earliest, until: last)
            let survivors = fromStart.map(\.offset.rawValue)
            #expect(survivors == survivors.sorted())
            #expect(fromStart.count < written.count)
            #expect(!fromStart.contains { $0.valueString?.hasPrefix("first") == true })
            for record in fromStart {
                let original = try #require(written.first { $0.offset == record.offset.rawValue })
                #expect(record.keyString == original.key && record.valueString == original.value)
                #expect(record.headers.map { "\($0.key)=\(String(decoding: $0.value ?? [], as: UTF8.self))" } == [original.header])
                #expect(record.timestamp?.milliseconds == original.timestamp)
            }
            for (key, offset) in latest { #expect(survivors.contains(offset), "latest record of \(key) at \(offset) is missing") }

            // From an offset compaction removed: the next record left.
            let gap = try #require((0..<last).first { !survivors.contains($0) })
            let expectedAfterGap = survivors.filter { $0 > gap }
            let fromGap = try await Self.readWithKafkaClient(broker.bootstrapServers, topic, from: .offset(Offset(gap)), until: last)
            #expect(fromGap.map(\.offset.rawValue) == expectedAfterGap)

            // kcat sees the same records at the same offsets, from the start and from the gap.
            let kcatAll = try await KcatTests.consume(broker.bootstrapServers, topic.rawValue)
            #expect(kcatAll.map { Int64($0.offset) } == survivors)
            #expect(kcatAll.map(\.value) == fromStart.compactMap(\.valueString))
            #expect(kcatAll.map(\.key) == fromStart.compactMap(\.keyString))
            let kcatFromGap = try await KcatTests.consume(broker.bootstrapServers, topic.rawValue, extra: ["-p", "0", "-o", "\(gap)"])
            #expect(kcatFromGap.map { Int64($0.offset) } == expectedAfterGap)
        }
    }
}

/// A deadline around a read loop, so a client stuck before a gap fails the test instead of hanging.
enum KafkaClientSupportDeadline {
    static func run<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw DeadlinePassed(description: "\(what) did not finish within \(limit)")
            }
            return value
        }
    }
}
