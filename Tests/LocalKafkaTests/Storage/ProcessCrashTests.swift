import Foundation
import Spawning
import KafkaWire
import NIOCore
import Testing
import TestSupport
@testable import LocalKafka

#if os(Linux)
import Glibc

/// `kill -9` of a real process that is appending with `fsync=always`: every append it
/// acknowledged must be there after recovery.
///
/// The writer is this test binary itself, run again with only `crashWriterChild` selected and
/// the data directory in an environment variable, so no extra executable target is needed.
/// Linux only: the child is found through `/proc/self/exe`.
@Suite(.serialized) struct ProcessCrashTests {
    static let directoryVariable = "LOCALKAFKA_STORAGE_CRASH_WRITER_DIRECTORY"

    /// The child's side: appends until killed, printing `ACK <offset> <value>` after each
    /// append returns (that is, after its fsync). Runs only inside the child process.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[directoryVariable] != nil))
    func crashWriterChild() throws {
        let directory = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment[Self.directoryVariable]))
        let store = try openStore(directory, segmentBytes: 4096, fsync: .always)
        if store.topic("crash") == nil { _ = try store.createTopic("crash", partitions: 1, configs: [:]) }
        let log = try #require(store.partition("crash", 0))
        for index in 0..<1_000_000 {
            let result = try log.append(makeBatch(count: 1, prefix: "v\(index)"), nowMs: 0)
            FileHandle.standardOutput.write(Data("ACK \(result.baseOffset) v\(index)-0\n".utf8))
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func acknowledgedAppendsSurviveSigkill() async throws {
        try await TestSupport.withTemporaryDirectory { directory in
            let environment = ProcessInfo.processInfo.environment.merging([Self.directoryVariable: directory.path]) { $1 }
            // Reading the child's pipe and waiting for it block: keep them off the cooperative pool.
            let (text, killedBySignal) = try await offCooperativePool { () throws -> (String, Bool) in
                let child = try SpawnedProcess.spawn(
                    "/proc/self/exe", ["--testing-library", "swift-testing", "--filter", "ProcessCrashTests/crashWriterChild"],
                    environment: environment, output: .pipe, error: .discard)
                let output = try #require(child.standardOutput)

                // Wait (on output, not on time) until the child acknowledged enough appends.
                var text = ""
                while text.components(separatedBy: "\nACK ").count < 300 {
                    let chunk = output.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                child.send(SIGKILL)
                let termination = child.waitUntilExit()
                text += String(decoding: output.readDataToEndOfFile(), as: UTF8.self)
                return (text, termination == .signalled(SIGKILL))
            }
            #expect(killedBySignal)

            var acknowledged: [Int64: String] = [:]
            // A line cut off by the kill proves nothing: only whole lines count.
            let wholeLines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            for line in wholeLines where line.hasPrefix("ACK ") {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let offset = Int64(fields[1]) else { continue }
                acknowledged[offset] = String(fields[2])
            }
            try #require(acknowledged.count >= 300)

            let store = try openStore(directory, segmentBytes: 4096)
            defer { store.close() }
            let log = try #require(store.partition("crash", 0))
            let stored = Dictionary(uniqueKeysWithValues: try readAll(log).map { ($0.offset, $0.value) })
            for (offset, value) in acknowledged {
                #expect(stored[offset] == value, "acknowledged offset \(offset) lost")
            }
            #expect(log.logEndOffset >= (acknowledged.keys.max() ?? 0) + 1)
            #expect(try log.append(makeBatch(), nowMs: 0).baseOffset == Int64(stored.count))
        }
    }
}
#endif
