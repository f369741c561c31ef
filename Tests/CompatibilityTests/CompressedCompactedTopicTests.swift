import Foundation
import KafkaClient
import KafkaCompression
import KafkaWire
import LocalKafka
import NIOCore
import Testing
import TestSupport

/// Compacted topics written with each of Kafka's codecs: LocalKafka's cleaner opens the
/// compressed batches, keeps the latest record per key and compresses them again, and every
/// independent client (librdkafka through KafkaClient and confluent-kafka, kcat, kafka-python)
/// reads the result.
@Suite(.timeLimit(.minutes(3))) struct CompressedCompactedTopicTests {
    static let codecs: [KafkaProducerConfiguration.Compression] = [.gzip, .snappy, .lz4, .zstd]

    struct Written: Equatable, Comparable, CustomStringConvertible {
        var offset: Int64
        var key: String
        var value: String

        static func < (lhs: Written, rhs: Written) -> Bool { lhs.offset < rhs.offset }
        var description: String { "\(offset):\(key)=\(value.prefix(12))" }
    }

    static func codec(_ compression: KafkaProducerConfiguration.Compression) -> CompressionCodec {
        switch compression {
        case .none: .none
        case .gzip: .gzip
        case .snappy: .snappy
        case .lz4: .lz4
        case .zstd: .zstd
        }
    }

    static func createCompactedTopic(_ broker: LocalKafkaBroker, _ topic: TopicName) async throws {
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [broker.bootstrapServers]))
        _ = try await admin.createTopics([NewTopic(name: topic, partitions: 1, configs: ["cleanup.policy": "compact", "segment.bytes": "700"])])
    }

    /// The stored batches of partition 0 and the base offset of its active (last) segment.
    static func stored(_ dataDirectory: URL, _ topic: TopicName) throws -> (batches: [RecordBatch], activeBase: Int64) {
        let directory = dataDirectory.appendingPathComponent("topics/\(topic.rawValue)-0")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".log") }.sorted()
        var batches: [RecordBatch] = []
        for name in names {
            let bytes = ByteBuffer(bytes: try Data(contentsOf: directory.appendingPathComponent(name)))
            batches += try RecordBatchSequence(splitting: bytes).batches
        }
        let activeBase = try #require(names.last.flatMap { Int64($0.dropLast(4)) }, "no segment in \(names)")
        return (batches, activeBase)
    }

    /// What a compaction leaves: everything in the active segment, before it the latest
    /// record of each key.
    static func survivors(_ written: [Written], activeBase: Int64) -> [Written] {
        var latest: [String: Int64] = [:]
        for record in written { latest[record.key] = record.offset }
        return written.filter { $0.offset >= activeBase || latest[$0.key] == $0.offset }.sorted()
    }

    /// Compacts `topic` and checks what the cleaner wrote: several segments, valid CRCs, the
    /// codec kept by every batch that still holds records; returns what must survive.
    ///
    /// The producer must have compressed its batches: librdkafka before 2.11.1 (Debian's 2.0.2,
    /// under KafkaClient and kcat) sends gzip, snappy and lz4 batches uncompressed to a broker
    /// that does not advertise Produce v0, which LocalKafka therefore does.
    static func compactAndCheck(
        _ broker: LocalKafkaBroker, _ dataDirectory: URL, _ topic: TopicName, _ written: [Written], codec: CompressionCodec
    ) async throws -> [Written] {
        let before = try stored(dataDirectory, topic)
        // librdkafka sends a batch uncompressed when compressing would not make it smaller.
        #expect(before.batches.allSatisfy { [codec, CompressionCodec.none].contains($0.header.compression) })
        let compressedBatches = before.batches.filter { $0.header.recordsCount > 1 && $0.header.compression == codec }
        #expect(!compressedBatches.isEmpty, "no batch holds several \(codec) records")
        #expect(before.activeBase > 0, "the topic has a single segment: nothing to compact")
        let report = try await broker.compact(topic: topic.rawValue)
        let after = try stored(dataDirectory, topic)
        let expected = survivors(written, activeBase: after.activeBase)
        #expect(report.recordsRemoved == written.count - expected.count)
        #expect(report.recordsRemoved > 0)
        #expect(after.batches.allSatisfy { $0.hasValidCRC })
        for batch in after.batches where batch.header.recordsCount > 0 {
            let original = try #require(before.batches.first { $0.header.baseOffset == batch.header.baseOffset })
            #expect(batch.header.compression == original.header.compression)
        }
        // The cleaner rewrote compressed batches in the closed segments and kept their codec.
        let rewritten = after.batches.filter { batch in
            batch.header.compression == codec && batch.header.baseOffset < after.activeBase
                && before.batches.contains { $0.header.baseOffset == batch.header.baseOffset && $0.header.recordsCount > batch.header.recordsCount }
        }
        #expect(!rewritten.isEmpty, "no compressed batch was filtered and compressed again")
        var decoded: [Written] = []
        for batch in after.batches {
            for record in try batch.records(maxDecompressedBytes: 1 << 24) {
                decoded.append(Written(
                    offset: batch.header.baseOffset + Int64(record.offsetDelta),
                    key: record.key.map { String(buffer: $0) } ?? "", value: record.value.map { String(buffer: $0) } ?? ""
                ))
            }
        }
        #expect(decoded == expected)
        return expected
    }

    static func readWithKcat(_ bootstrap: String, _ topic: TopicName) async throws -> [Written] {
        try await KcatTests.consume(bootstrap, topic.rawValue).map { Written(offset: Int64($0.offset), key: $0.key, value: $0.value) }
    }

    @Test(arguments: codecs)
    func kafkaClientAndKcatReadTheLatestPerKeyAfterCompaction(compression: KafkaProducerConfiguration.Compression) async throws {
        var dataDirectory: URL?
        try await withLocalKafka(configure: { dataDirectory = $0.dataDirectory }) { broker in
            let topic = uniqueTopic("compressed-compacted")
            try await Self.createCompactedTopic(broker, topic)
            let written = try await withProducer(broker.bootstrapServers, configure: {
                $0.compression = compression
                $0.linger = .milliseconds(20)
            }) { producer in
                var written: [Written] = []
                // Rounds of records sent together, so each batch holds several of them.
                for round in 0..<8 {
                    try await withThrowingTaskGroup(of: Written.self) { group in
                        for index in 0..<10 {
                            // Hot keys are overwritten, unique ones stay: every closed batch is filtered.
                            let number = round * 10 + index
                            let key = number % 3 == 0 ? "hot\(number % 4)" : "unique\(number)"
                            let value = "round \(round) record \(index) " + String(repeating: "compressible ", count: 10)
                            group.addTask {
                                let delivered = try await producer.send(ProducerRecord(topic: topic, partition: 0, key: key, value: value))
                                return Written(offset: delivered.offset.rawValue, key: key, value: value)
                            }
                        }
                        for try await record in group { written.append(record) }
                    }
                }
                return written.sorted()
            }
            #expect(written.map(\.offset) == Array(0..<80))
            let expected = try await Self.compactAndCheck(
                broker, try #require(dataDirectory), topic, written, codec: Self.codec(compression)
            )
            let last = try #require(written.last?.offset)

            let read = try await CompactedTopicReadTests.readWithKafkaClient(broker.bootstrapServers, topic, from: .earliest, until: last)
            #expect(read.map { Written(offset: $0.offset.rawValue, key: $0.keyString ?? "", value: $0.valueString ?? "") } == expected)
            #expect(try await Self.readWithKcat(broker.bootstrapServers, topic) == expected)
        }
    }

    @Test(arguments: codecs)
    func aKeylessRecordInACompressedBatchIsRefused(compression: KafkaProducerConfiguration.Compression) async throws {
        try await withLocalKafka { broker in
            let topic = uniqueTopic("compressed-keyless")
            try await Self.createCompactedTopic(broker, topic)
            try await withProducer(broker.bootstrapServers, configure: {
                $0.compression = compression
                $0.idempotent = false
            }) { producer in
                await #expect {
                    _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, key: nil as [UInt8]?, value: Array(String(repeating: "keyless ", count: 20).utf8)))
                } throws: { error in
                    (error as? KafkaError)?.code.rawValue == 87
                }
                let delivered = try await producer.send(ProducerRecord(topic: topic, partition: 0, key: "keyed", value: "fine"))
                #expect(delivered.offset.rawValue == 0)
            }
        }
    }

    /// confluent-kafka writes with the codec and reads back what it wrote; after LocalKafka's
    /// cleaner compressed the kept records again, confluent-kafka, kafka-python, kcat and
    /// KafkaClient all read exactly the latest record per key at the original offsets.
    @Test(arguments: codecs)
    func pythonClientsAndKcatReadWhatTheCleanerCompressedAgain(compression: KafkaProducerConfiguration.Compression) async throws {
        var dataDirectory: URL?
        try await withLocalKafka(configure: { dataDirectory = $0.dataDirectory }) { broker in
            let topic = uniqueTopic("python-compressed")
            try await Self.createCompactedTopic(broker, topic)
            let written = try await Self.runSuite(
                ["--bootstrap", broker.bootstrapServers, "--topic", topic.rawValue, "--phase", "produce", "--codec", compression.rawValue, "--count", "70"]
            )
            #expect(written.map(\.offset) == Array(0..<70))
            let expected = try await Self.compactAndCheck(broker, try #require(dataDirectory), topic, written, codec: Self.codec(compression))
            let last = try #require(written.last?.offset)
            for client in ["confluent-kafka", "kafka-python"] {
                let read = try await Self.runSuite(
                    ["--bootstrap", broker.bootstrapServers, "--topic", topic.rawValue, "--phase", "consume", "--client", client, "--last", "\(last)"]
                )
                #expect(read == expected, "\(client) read differently")
            }
            #expect(try await Self.readWithKcat(broker.bootstrapServers, topic) == expected)
            let kafkaClient = try await CompactedTopicReadTests.readWithKafkaClient(broker.bootstrapServers, topic, from: .earliest, until: last)
            #expect(kafkaClient.map { Written(offset: $0.offset.rawValue, key: $0.keyString ?? "", value: $0.valueString ?? "") } == expected)
        }
    }

    /// confluent-kafka compresses every codec (its librdkafka is 2.11.1 or later), so this is
    /// the keyless check over TCP for gzip, snappy and lz4 batches as well.
    @Test(arguments: codecs)
    func confluentKafkaGetsInvalidRecordForAKeylessRecordInACompressedBatch(compression: KafkaProducerConfiguration.Compression) async throws {
        try await withLocalKafka { broker in
            let topic = uniqueTopic("python-keyless")
            try await Self.createCompactedTopic(broker, topic)
            let output = try await ChildProcess.run(
                ["python3", PythonSuite.directory.appendingPathComponent("compression_suite.py").path,
                 "--bootstrap", broker.bootstrapServers, "--topic", topic.rawValue, "--phase", "keyless", "--codec", compression.rawValue],
                deadline: PythonSuite.deadline
            )
            try #require(!output.timedOut && output.status == 0, "compression_suite.py failed. \(output)")
            struct Outcomes: Decodable { var outcomes: [[Int64?]] }
            let outcomes = try JSONDecoder().decode(Outcomes.self, from: Data(try #require(output.lastLine).utf8)).outcomes
            // The three records travel in one batch: the whole batch is refused.
            #expect(outcomes.map { $0.first ?? nil } == [87, 87, 87], "\(outcomes)")
            #expect(try await Self.readWithKcat(broker.bootstrapServers, topic).isEmpty)
        }
    }

    struct SuiteSummary: Decodable {
        var records: [[Value]]

        enum Value: Decodable {
            case offset(Int64)
            case text(String?)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Int64.self) { self = .offset(number) } else { self = .text(try container.decode(String?.self)) }
            }
        }
    }

    /// Runs `compression_suite.py` with `arguments` and returns the records it printed.
    static func runSuite(_ arguments: [String]) async throws -> [Written] {
        let path = PythonSuite.directory.appendingPathComponent("compression_suite.py").path
        let output = try await ChildProcess.run(["python3", path] + arguments, deadline: PythonSuite.deadline)
        try #require(!output.timedOut && output.status == 0, "compression_suite.py failed. \(output)")
        let line = try #require(output.lastLine, "compression_suite.py printed no summary. \(output)")
        let summary = try JSONDecoder().decode(SuiteSummary.self, from: Data(line.utf8))
        return try summary.records.map { fields in
            guard fields.count == 3, case .offset(let offset) = fields[0], case .text(let key) = fields[1], case .text(let value) = fields[2] else {
                throw ChildProcessError(description: "compression_suite.py printed a malformed record \(fields)")
            }
            return Written(offset: offset, key: key ?? "", value: value ?? "")
        }
    }
}
