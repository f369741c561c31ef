import Foundation
import Testing

/// A Python client's suite script under `Tests/Compatibility/`, run as a child process.
///
/// The script runs its scenarios with its own assertions, exits 0 only when all passed, and
/// prints a JSON summary as its last stdout line; the Swift test asserts on both.
struct PythonSuite {
    /// The script's file name in `Tests/Compatibility/`.
    var script: String
    /// The module the script imports; checked first so a missing client says how to install it.
    var module: String

    static let confluentKafka = PythonSuite(script: "confluent_suite.py", module: "confluent_kafka")
    static let kafkaPython = PythonSuite(script: "kafka_python_suite.py", module: "kafka")

    /// Longest a suite may run before it is killed and its test fails.
    static let deadline: Duration = .seconds(90)

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Compatibility", isDirectory: true)

    /// Runs the suite against `bootstrap` and decodes its summary, after checking that exit
    /// status was 0. A missing python3 or client module fails (never skips) with how to fix it.
    func run<Summary: Decodable>(against bootstrap: String, arguments: [String] = [], as: Summary.Type) async throws -> Summary {
        let probe = try await ChildProcess.run(
            ["python3", "-c", "import \(module)"], deadline: .seconds(30)
        )
        try #require(
            probe.status == 0,
            "python3 with the \(module) module is needed for the compatibility suite; run script/bootstrap (it installs Tests/Compatibility/requirements.txt). \(probe)"
        )
        let path = Self.directory.appendingPathComponent(script).path
        let output = try await ChildProcess.run(
            ["python3", path, "--bootstrap", bootstrap] + arguments, deadline: Self.deadline
        )
        #expect(!output.timedOut, "\(script) hung and was killed after \(Self.deadline). \(output)")
        #expect(output.status == 0, "\(script) reported failures. \(output)")
        let line = try #require(output.lastLine, "\(script) printed no JSON summary. \(output)")
        do {
            return try JSONDecoder().decode(Summary.self, from: Data(line.utf8))
        } catch {
            Issue.record("\(script)'s summary does not decode: \(error). \(output)")
            throw error
        }
    }
}
