import Foundation
import KafkaClient
import KafkaWire
import NIOCore
import Testing

/// Each fault the control endpoint injects, observed from outside as a client sees it: raw TCP
/// for what happens to connections, KafkaClient (librdkafka) for what an application sees.
@Suite(.timeLimit(.minutes(2)))
struct ControlEndpointTests {
    /// An ApiVersions v0 request frame: the smallest request every broker answers.
    static func apiVersionsFrame(correlationID: Int32 = 1) -> [UInt8] {
        let header = RequestHeader(api: .apiVersions, apiVersion: 0, correlationId: correlationID, clientId: "raw-test")
        return Array(RequestFrame.encode(header: header, request: .apiVersions(ApiVersionsRequest())).readableBytesView)
    }

    static func answersApiVersions(_ connection: RawConnection, correlationID: Int32 = 1) async -> Bool {
        guard connection.send(apiVersionsFrame(correlationID: correlationID)),
              let frame = await connection.receiveFrame(timeout: .seconds(10)), frame.count >= 4 else { return false }
        return Int32(bigEndian: frame[0..<4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }) == correlationID
    }

    @Test func blackholeDropsOpenConnectionsAndSilencesNewOnes() async throws {
        try await RecordedBroker.with { broker in
            let open = try RawConnection(broker.bootstrapServers)
            #expect(await Self.answersApiVersions(open))
            let admin = try KafkaClientSupport.admin(broker.bootstrapServers)
            _ = try await admin.listTopics(timeout: .seconds(10))

            let injected = try await ControlCall.send("POST", "/faults/blackhole", to: broker.controlEndpoint)
            #expect(injected.status == 200)
            #expect(await open.waitForClose(timeout: .seconds(5)), "an open connection is dropped")

            // A new connection is accepted by the kernel but never answered.
            let fresh = try RawConnection(broker.bootstrapServers)
            #expect(fresh.send(Self.apiVersionsFrame()))
            #expect(await fresh.receive(timeout: .milliseconds(500)) == .silent)
            // An application's request times out.
            let blind = try KafkaClientSupport.admin(broker.bootstrapServers)
            await #expect(throws: KafkaError.self) { _ = try await blind.listTopics(timeout: .seconds(2)) }
            #expect(try await ControlCall.send("GET", "/faults", to: broker.controlEndpoint).body == "blackhole\n")

            #expect(try await ControlCall.send("POST", "/faults/heal", to: broker.controlEndpoint).status == 200)
            let healed = try KafkaClientSupport.admin(broker.bootstrapServers)
            _ = try await healed.listTopics(timeout: .seconds(10))
            #expect(await Self.answersApiVersions(try RawConnection(broker.bootstrapServers)))

            #expect(broker.log.entries("fault injected").contains { $0.metadata["fault"] == "blackhole" && $0.level == .notice })
            #expect(!broker.log.entries("faults healed").isEmpty)
            #expect(broker.unexpectedStop == nil)
        }
    }

    @Test func refuseClosesNewConnectionsAtOnce() async throws {
        try await RecordedBroker.with { broker in
            #expect(try await ControlCall.send("POST", "/faults/refuse", to: broker.controlEndpoint).status == 200)
            let refused = try RawConnection(broker.bootstrapServers)
            #expect(await refused.waitForClose(timeout: .seconds(5)), "a new connection is closed without a request")
            let admin = try KafkaClientSupport.admin(broker.bootstrapServers)
            await #expect(throws: KafkaError.self) { _ = try await admin.listTopics(timeout: .seconds(2)) }
            #expect(try await ControlCall.send("GET", "/faults", to: broker.controlEndpoint).body == "refuse\n")

            #expect(try await ControlCall.send("POST", "/faults/heal", to: broker.controlEndpoint).status == 200)
            #expect(await Self.answersApiVersions(try RawConnection(broker.bootstrapServers)))
            #expect(broker.log.entries("fault injected").contains { $0.metadata["fault"] == "refuse" })
        }
    }

    @Test func latencyDelaysEachRequestOfTheAPIByAtLeastTheGivenTime() async throws {
        try await RecordedBroker.with { broker in
            let producer = try KafkaClientSupport.producer(broker.bootstrapServers)
            // Warm up: metadata and the producer id are in place before timing one produce.
            _ = try await producer.send(ProducerRecord(topic: "latency", key: "warm", value: "up"))
            let answer = try await ControlCall.send("POST", "/faults/latency?ms=300&api=produce", to: broker.controlEndpoint)
            #expect(answer.status == 200)
            #expect(try await ControlCall.send("GET", "/faults", to: broker.controlEndpoint).body.contains("latency 0.3 seconds on Produce"))

            let clock = ContinuousClock()
            let start = clock.now
            let delivered = try await producer.send(ProducerRecord(topic: "latency", key: "slow", value: "record"))
            let elapsed = clock.now - start
            #expect(delivered.offset == 1)
            #expect(elapsed >= .milliseconds(300), "a produce under 300 ms latency took \(elapsed)")
            await producer.shutdown()
            #expect(broker.log.entries("fault injected").contains { $0.metadata["fault"]?.hasPrefix("latency") == true })
        }
    }

    @Test func failAnswersTheNextNRequestsOfTheAPIWithTheError() async throws {
        try await RecordedBroker.with { broker in
            let answer = try await ControlCall.send("POST", "/faults/fail?api=createtopics&error=37&count=2", to: broker.controlEndpoint)
            #expect(answer.status == 200)
            let admin = try KafkaClientSupport.admin(broker.bootstrapServers)
            var errors: [KafkaError.Code] = []
            for attempt in 1...3 {
                let outcome = try await admin.createTopics([NewTopic(name: "failing", partitions: 2)])
                switch try #require(outcome[TopicName("failing")]) {
                case .success:
                    #expect(attempt == 3, "the third attempt, after two injected failures, succeeds")
                case .failure(let error):
                    errors.append(error.code)
                }
                if attempt == 1 {
                    let listed = try await ControlCall.send("GET", "/faults", to: broker.controlEndpoint).body
                    #expect(listed == "fail next 1 CreateTopics(19) requests with INVALID_PARTITIONS (37)\n", "GET /faults listed: \(listed)")
                }
            }
            #expect(errors == [.invalidPartitions, .invalidPartitions])
            #expect(try await ControlCall.send("GET", "/faults", to: broker.controlEndpoint).body == "none\n")
            #expect(try await admin.listTopics()[TopicName("failing")]?.partitionCount == 2)
            #expect(broker.log.entries("injected failure answered").count == 2)
        }
    }

    @Test func badControlCallsAreRefusedNamingTheProblem() async throws {
        try await RecordedBroker.with { broker in
            let endpoint = broker.controlEndpoint
            let cases: [(method: String, target: String, status: Int, mentions: String)] = [
                ("POST", "/faults/latency", 400, "'ms'"),
                ("POST", "/faults/latency?ms=soon", 400, "'ms'"),
                ("POST", "/faults/latency?ms=-5", 400, "'ms'"),
                ("POST", "/faults/latency?ms=10&api=teleport", 400, "unknown API 'teleport'"),
                ("POST", "/faults/fail?error=6", 400, "'api'"),
                ("POST", "/faults/fail?api=produce", 400, "'error'"),
                ("POST", "/faults/fail?api=produce&error=bad", 400, "error 'bad'"),
                ("POST", "/faults/fail?api=produce&error=6&count=0", 400, "'count'"),
                ("GET", "/faults/blackhole", 405, "method GET not allowed on /faults/blackhole"),
                ("DELETE", "/faults", 405, "method DELETE not allowed on /faults"),
                ("GET", "/nowhere", 404, "no control endpoint at /nowhere"),
            ]
            for call in cases {
                let answer = try await ControlCall.send(call.method, call.target, to: endpoint)
                #expect(answer.status == call.status, "\(call.method) \(call.target)")
                #expect(answer.body.contains(call.mentions), "\(call.method) \(call.target) answered: \(answer.body)")
            }
            #expect(try await ControlCall.send("GET", "/healthz", to: endpoint).body == "ok\n")
            #expect(try await ControlCall.send("GET", "/faults", to: endpoint).body == "none\n", "refused calls inject nothing")
            #expect(broker.log.entries("fault injected").isEmpty)
        }
    }
}
