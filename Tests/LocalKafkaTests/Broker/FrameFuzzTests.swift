import Foundation
import KafkaClient
import KafkaWire
import LocalKafka
import Testing
import TestSupport

#if os(Linux)
// Linux only: raw sockets through Glibc.

/// Throws thousands of random and mutated frames at a broker over raw TCP, then checks that it
/// still serves real clients and that data written before the fuzzing is unchanged.
///
/// Reproducible: the inputs come from `seed`; a failure message names the input's index and kind.
/// `FUZZ_SEED` and `FUZZ_COUNT` in the environment override the seed and the number of inputs
/// for longer runs by hand (20 000 inputs take about 10 s here).
@Suite(.timeLimit(.minutes(2)))
struct FrameFuzzTests {
    static let seed: UInt64 = UInt64(ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "") ?? 0x5EED_CAFE
    static let inputCount = Int(ProcessInfo.processInfo.environment["FUZZ_COUNT"] ?? "") ?? 3_000
    static let workers = 4
    /// Small enough that oversized frames are cheap to claim, large enough for every sample.
    static let maxRequestBytes = 1_048_576

    @Test func hostileFramesCloseOnlyTheirConnectionAndChangeNothing() async throws {
        try await RecordedBroker.with(configure: {
            $0.maxRequestBytes = Self.maxRequestBytes
            $0.fsync = .interval
        }) { broker in
            let servers = broker.bootstrapServers
            let precious: TopicName = "precious"
            let producer = try KafkaClientSupport.producer(servers)
            let written = (0..<200).map { index in
                ProducerRecord(
                    topic: precious, key: "key-\(index)", value: "value-\(index)-" + String(repeating: "x", count: index % 37),
                    headers: [KafkaHeader(key: "index", string: String(index))]
                )
            }
            for outcome in try await producer.send(written) { _ = try outcome.get() }
            let before = try await KafkaClientSupport.readAll(precious, partitions: 1, from: servers)
            #expect(before[0]?.count == written.count)

            // A connection that behaves, kept open across the whole fuzz.
            let bystander = try RawConnection(servers)
            #expect(await ControlEndpointTests.answersApiVersions(bystander, correlationID: 1))

            let corpus = RequestCorpus.frames()
            var random = SeededGenerator(seed: Self.seed)
            let inputs = (0..<Self.inputCount).map { _ in
                FuzzInput.make(using: &random, corpus: corpus, maxFrameBytes: Self.maxRequestBytes)
            }
            let lingering = await withTaskGroup(of: [String].self) { group in
                for worker in 0..<Self.workers {
                    group.addTask {
                        var problems: [String] = []
                        for index in stride(from: worker, to: inputs.count, by: Self.workers) {
                            if let problem = await Self.throwAtBroker(inputs[index], address: servers) {
                                problems.append("input \(index) (\(inputs[index].kind)): \(problem)")
                            }
                        }
                        return problems
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            #expect(lingering.isEmpty, "the broker kept hostile connections open:\n\(lingering.prefix(10).joined(separator: "\n"))")

            #expect(broker.unexpectedStop == nil)
            #expect(await ControlEndpointTests.answersApiVersions(bystander, correlationID: 2), "the well-behaved connection was never disturbed")
            let closures = broker.log.entries("closed Kafka connection")
            #expect(closures.count >= Self.inputCount / 4, "malformed requests are logged as they close their connection")
            #expect(closures.allSatisfy { $0.level == .warning && ($0.metadata["reason"] ?? "").hasPrefix("malformed request: ") })

            // Real clients are served, and data from before the fuzz reads back the same.
            let after = try await KafkaClientSupport.readAll(precious, partitions: 1, from: servers)
            #expect(Self.fingerprint(after[0] ?? []) == Self.fingerprint(before[0] ?? []))
            let fresh: TopicName = "after-fuzz"
            for outcome in try await producer.send((0..<10).map { ProducerRecord(topic: fresh, key: "k\($0)", value: "v\($0)") }) {
                _ = try outcome.get()
            }
            await producer.shutdown()
            let consumed = try await KafkaClientSupport.readAll(fresh, partitions: 1, from: servers)
            #expect(consumed[0]?.map(\.valueString) == (0..<10).map { "v\($0)" })
        }
    }

    /// Sends one input on a fresh connection; returns a problem when the broker does not close
    /// the connection once the client has finished (or, for a frame claiming too much, at once).
    static func throwAtBroker(_ input: FuzzInput, address: String) async -> String? {
        let connection: RawConnection
        do {
            connection = try RawConnection(address)
        } catch {
            return "cannot connect: \(error)"
        }
        _ = connection.send(input.bytes)
        if input.abandons {
            connection.close(reset: true)
            return nil
        }
        if input.kind == .oversized || input.kind == .negativeSize {
            // Refused from the size prefix alone: no waiting for a body that will never come.
            return await connection.waitForClose(timeout: .seconds(10)) ? nil : "not closed after an impossible size"
        }
        connection.finishSending()
        return await connection.waitForClose(timeout: .seconds(10)) ? nil : "still open 10 s after the client finished"
    }

    /// Everything a consumer sees of a record.
    static func fingerprint(_ records: [KafkaRecord]) -> [String] {
        records.map { record in
            "\(record.offset)|\(record.key ?? [])|\(record.value ?? [])|\(record.headers)|\(String(describing: record.timestamp))"
        }
    }
}
#endif
