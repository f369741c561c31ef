import Foundation
import Testing
import TestSupport

/// kcat (Debian's, on librdkafka 2.0.2) as a child process against a fresh LocalKafka.
@Suite(.timeLimit(.minutes(3))) struct KcatTests {
    static let deadline: Duration = .seconds(90)
    /// librdkafka gives up on a silent broker after 10 s by default. A full `swift test` run
    /// keeps both cores busy for longer than that at its start (CPU-bound suites share the
    /// cooperative pool with every in-process broker), so kcat is told to wait longer.
    static let patience = ["-X", "socket.timeout.ms=60000", "-X", "api.version.request.timeout.ms=60000",
                           "-X", "message.timeout.ms=60000"]

    /// One line of `kcat -C -f '%k|%s|%h|%o|%p\n'`.
    struct ConsumedLine: Equatable, CustomStringConvertible {
        var key: String
        var value: String
        var headers: String
        var offset: Int
        var partition: Int

        init(key: String, value: String, headers: String, offset: Int, partition: Int) {
            (self.key, self.value, self.headers, self.offset, self.partition) = (key, value, headers, offset, partition)
        }

        init?(_ line: Substring) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count == 5, let offset = Int(fields[3]), let partition = Int(fields[4]) else { return nil }
            self.init(key: String(fields[0]), value: String(fields[1]), headers: String(fields[2]), offset: offset, partition: partition)
        }

        var description: String { "\(key)|\(value)|\(headers)|\(offset)|\(partition)" }
    }

    static func kcat(_ arguments: [String], input: String = "") async throws -> ChildProcessOutput {
        let output = try await ChildProcess.run(["kcat"] + arguments + patience, input: Data(input.utf8), deadline: deadline)
        #expect(!output.timedOut && output.status == 0, "kcat failed (run script/bootstrap if it is missing). \(output)")
        return output
    }

    static func consume(_ bootstrap: String, _ topic: String, extra: [String] = []) async throws -> [ConsumedLine] {
        let output = try await kcat(["-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-f", "%k|%s|%h|%o|%p\n"] + extra)
        let lines = output.stdout.split(separator: "\n")
        let parsed = lines.compactMap(ConsumedLine.init)
        #expect(parsed.count == lines.count, "unparsable kcat output: \(output.stdout)")
        return parsed.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }

    @Test func producesKeysAndHeadersAndConsumesThemBackWithOffsets() async throws {
        try await withLocalKafka(configure: { $0.defaultPartitions = 3 }) { broker in
            let bootstrap = broker.bootstrapServers
            let topic = "kcat-\(UInt32.random(in: 0...UInt32.max))"
            let keyed = ["user-a:login", "user-b:view", "user-c:buy", "user-a:logout", "user-b:leave", ":empty-key"]
            _ = try await Self.kcat(["-P", "-b", bootstrap, "-t", topic, "-K:", "-H", "source=compat", "-H", "trace=42"],
                                    input: keyed.joined(separator: "\n") + "\n")
            _ = try await Self.kcat(["-P", "-b", bootstrap, "-t", topic, "-K:", "-p", "2"], input: "pinned:to-two\n")

            let consumed = try await Self.consume(bootstrap, topic)
            #expect(consumed.count == keyed.count + 1)
            let withHeaders = consumed.filter { $0.key != "pinned" }
            #expect(withHeaders.allSatisfy { $0.headers == "source=compat,trace=42" }, "\(withHeaders)")
            #expect(Set(withHeaders.map { "\($0.key):\($0.value)" }) == Set(keyed))
            // The key hash puts every record of a key on one partition, in produce order.
            for key in ["user-a", "user-b"] {
                let records = withHeaders.filter { $0.key == key }
                #expect(Set(records.map(\.partition)).count == 1, "\(key) spread over partitions: \(records)")
            }
            #expect(withHeaders.filter { $0.key == "user-a" }.map(\.value) == ["login", "logout"])
            let pinned = try #require(consumed.first { $0.key == "pinned" })
            #expect(pinned.partition == 2 && pinned.value == "to-two" && pinned.headers.isEmpty)
            // Offsets on every partition run 0, 1, 2, … with no gap.
            for partition in 0..<3 {
                let offsets = consumed.filter { $0.partition == partition }.map(\.offset)
                #expect(offsets == Array(0..<offsets.count), "partition \(partition) offsets \(offsets)")
            }

            // Reading one partition from an offset returns exactly its tail.
            let tail = try await Self.consume(bootstrap, topic, extra: ["-p", "\(pinned.partition)", "-o", "\(pinned.offset)"])
            #expect(tail == [pinned])
        }
    }

    @Test(arguments: ["gzip", "snappy", "lz4", "zstd"])
    func compressedBatchesAreServedAsProduced(codec: String) async throws {
        try await withLocalKafka { broker in
            let topic = "kcat-\(codec)-\(UInt32.random(in: 0...UInt32.max))"
            let input = (0..<50).map { "k\($0):\(codec)-value-\($0)" }.joined(separator: "\n") + "\n"
            _ = try await Self.kcat(["-P", "-b", broker.bootstrapServers, "-t", topic, "-K:", "-z", codec], input: input)
            let consumed = try await Self.consume(broker.bootstrapServers, topic)
            #expect(consumed == (0..<50).map {
                ConsumedLine(key: "k\($0)", value: "\(codec)-value-\($0)", headers: "", offset: $0, partition: 0)
            })
        }
    }

    /// `kcat -L -J`: the metadata as JSON.
    struct Metadata: Decodable {
        struct Broker: Decodable { var id: Int; var name: String }
        struct Replica: Decodable { var id: Int }
        struct Partition: Decodable {
            var partition: Int
            var leader: Int
            var replicas: [Replica]
            var isrs: [Replica]
        }
        struct Topic: Decodable {
            var topic: String
            var partitions: [Partition]
        }
        var controllerid: Int
        var brokers: [Broker]
        var topics: [Topic]
    }

    @Test func listsBrokersTopicsAndPartitionsAsJSON() async throws {
        try await withLocalKafka(configure: { $0.defaultPartitions = 4 }) { broker in
            let bootstrap = broker.bootstrapServers
            let topics = ["meta-a-\(UInt32.random(in: 0...UInt32.max))", "meta-b-\(UInt32.random(in: 0...UInt32.max))"]
            for topic in topics {
                _ = try await Self.kcat(["-P", "-b", bootstrap, "-t", topic], input: "one\n")
            }
            let all = try JSONDecoder().decode(Metadata.self, from: Data(try await Self.kcat(["-L", "-J", "-b", bootstrap]).stdout.utf8))
            #expect(all.controllerid == 0)
            #expect(all.brokers.map(\.id) == [0])
            #expect(all.brokers.map(\.name) == [bootstrap])
            #expect(Set(all.topics.map(\.topic)) == Set(topics))
            for topic in all.topics {
                #expect(topic.partitions.map(\.partition).sorted() == [0, 1, 2, 3])
                #expect(topic.partitions.allSatisfy { $0.leader == 0 && $0.replicas.map(\.id) == [0] && $0.isrs.map(\.id) == [0] })
            }

            let one = try JSONDecoder().decode(
                Metadata.self, from: Data(try await Self.kcat(["-L", "-J", "-b", bootstrap, "-t", topics[1]]).stdout.utf8))
            #expect(one.topics.map(\.topic) == [topics[1]])
            #expect(one.topics.first?.partitions.count == 4)
        }
    }
}
