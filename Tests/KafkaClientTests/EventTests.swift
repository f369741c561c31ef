import Logging
import Synchronization
import TestSupport
import Testing

@testable import KafkaClient

/// Keeps every log message, so tests can assert on what librdkafka reported.
final class RecordingLogHandler: LogHandler, Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])
    private let metadataStorage = Mutex<Logger.Metadata>([:])
    private let level = Mutex<Logger.Level>(.trace)

    var recorded: [Entry] { entries.withLock { $0 } }

    var logger: Logger { Logger(label: "recording") { _ in self } }

    func log(event: LogEvent) {
        let merged = metadataStorage.withLock { $0 }.merging(event.metadata ?? [:]) { $1 }
        entries.withLock {
            $0.append(Entry(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadataStorage.withLock { $0[key] } }
        set { metadataStorage.withLock { $0[key] = newValue } }
    }

    var metadata: Logger.Metadata {
        get { metadataStorage.withLock { $0 } }
        set { metadataStorage.withLock { $0 = newValue } }
    }

    var logLevel: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

@Suite(.timeLimit(.minutes(1))) struct EventTests {
    @Test func librdkafkaLogsAndErrorsReachTheLogger() async throws {
        let recording = RecordingLogHandler()
        // Nothing listens on port 1: librdkafka logs the failed connection and raises an error event.
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
        configuration.client.properties = fastReconnect
        let producer = try KafkaProducer(configuration: configuration, logger: recording.logger)
        try await eventually("a connection failure was logged with its facility") {
            recording.recorded.contains { $0.metadata["librdkafka.facility"] == "FAIL" && $0.message.contains("127.0.0.1:1") }
        }
        try await eventually("the error event was forwarded") {
            recording.recorded.contains { $0.level == .warning && $0.message.contains("_TRANSPORT") }
        }
        await producer.shutdown(timeout: .milliseconds(100))
    }

    @Test func afterAFatalErrorSendsFailWithIt() async throws {
        try await withMockCluster { cluster in
            let topic = uniqueTopic()
            try cluster.createTopic(topic, partitions: 1)
            let recording = RecordingLogHandler()
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: recording.logger)
            _ = try await producer.send(ProducerRecord(topic: topic, value: "fine"))
            producer.raiseFatalErrorForTesting(.outOfOrderSequence, reason: "injected by the test")
            try await eventually("the fatal error was logged") {
                recording.recorded.contains { $0.level == .critical && $0.message.contains("fatal") }
            }
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(ProducerRecord(topic: topic, value: "refused"))
            }
            #expect(error?.isFatal == true)
            #expect(error?.isRetriable == false)
            #expect(error?.code == .outOfOrderSequence)
            #expect(error?.message.contains("create a new one") == true)
            await producer.shutdown(timeout: .seconds(1))
        }
    }
}
