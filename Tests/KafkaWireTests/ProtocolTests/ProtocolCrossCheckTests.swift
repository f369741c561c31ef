import Foundation
import Spawning
import NIOCore
import Testing
import TestSupport

@testable import KafkaWire

/// The round trips elsewhere prove the codecs agree with themselves; this proves they agree with
/// an independent implementation. kafka-python 3 has its own schema-driven codecs: every sample
/// request and response, in every advertised version, must decode there and encode back to the
/// very same bytes.
@Suite struct ProtocolCrossCheckTests {
    @Test(.enabled(if: kafkaPythonAvailable, "needs python3 with kafka-python 3"))
    func everyEncodingAgreesWithKafkaPython() async throws {
        var lines: [String] = []
        for (api, version) in allAdvertisedVersions {
            var request = ByteBuffer()
            KafkaRequest.sample(api: api, version: version).encode(version: version, into: &request)
            lines.append("\(api.name)Request \(version) \(hex(request))")
            var response = ByteBuffer()
            var sample = KafkaResponse.sample(api: api, version: version)
            if case .apiVersions(var apiVersions) = sample {
                // Clients read an ApiVersions response that carries an error as v0, whatever
                // version they asked for (the UNSUPPORTED_VERSION fallback); keep it error-free here.
                apiVersions.errorCode = 0
                sample = .apiVersions(apiVersions)
            }
            sample.encode(version: version, into: &response)
            lines.append("\(api.name)Response \(version) \(hex(response))")
        }
        let input = lines.joined(separator: "\n") + "\n"
        // Waiting for python blocks: keep it off the cooperative pool the other tests run on.
        let (status, report) = try await offCooperativePool {
            try runPython(arguments: [crossCheckScript.path], input: input)
        }
        #expect(status == 0, "\(report)")
    }

    private func hex(_ buffer: ByteBuffer) -> String {
        buffer.readableBytesView.map { String(format: "%02x", $0) }.joined()
    }
}

private let crossCheckScript = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("script/crosscheck-kafka-python.py")

private let kafkaPythonAvailable: Bool = {
    guard let (status, _) = try? runPython(arguments: ["-c", "import kafka.protocol.api_message"], input: "") else {
        return false
    }
    return status == 0
}()

/// Runs python3 with `arguments`, feeding `input` on stdin; returns the exit status and stderr.
/// Input and error output go through temporary files so neither side can block on a full pipe.
private func runPython(arguments: [String], input: String) throws -> (Int32, String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("protocol-crosscheck-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let inputFile = directory.appendingPathComponent("input")
    let errorFile = directory.appendingPathComponent("stderr")
    try Data(input.utf8).write(to: inputFile)
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)

    let process = try SpawnedProcess.spawn(
        "/usr/bin/env", ["python3"] + arguments, input: .file(inputFile.path), output: .discard, error: .append(errorFile.path))
    let termination = process.waitUntilExit()
    let report = String(decoding: try Data(contentsOf: errorFile), as: UTF8.self)
    return (termination.status, report)
}
