import AsyncHTTPClient
import Foundation
import LocalKafka
import TestSupport
import Testing

/// The `switchback` executable next to the test bundle (built by `swift build --build-tests`).
func switchbackExecutable() throws -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("switchback")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw AgentTestFailure("the switchback executable was not found near \(CommandLine.arguments[0]); run swift build first")
}

/// Writes `yaml` as `agent.yaml` in `directory` and starts `switchback agent` on it as a child
/// process (the test's peer secret and operator token in its environment, stderr discarded).
/// The caller kills it; `defer { if process.isRunning { kill(…, SIGKILL) } }` covers failures.
func startAgentProcess(_ executable: URL, yaml: String, in directory: URL) throws -> Process {
    let configPath = directory.appendingPathComponent("agent.yaml")
    try yaml.write(to: configPath, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = executable
    process.arguments = ["agent", "--config", configPath.path, "--log-level", "warning"]
    process.environment = ["PEER": peerSecret, "TOKEN": operatorToken]
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

struct AgentTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("switchback agent as a process", .serialized, .timeLimit(.minutes(2)))
struct AgentProcessTests {
    @Test("SIGTERM drains the agent and it exits 0")
    func sigtermExitsCleanly() async throws {
        let executable = try switchbackExecutable()
        try await withLocalKafka { brokerA in
            try await withLocalKafka { brokerB in
                try await withTemporaryDirectory(prefix: "agent-process") { directory in
                    let port = try freeLoopbackPort()
                    let yaml = agentYAML(
                        name: "dc-a", port: port, dataDir: directory.appendingPathComponent("data").path,
                        bootstrapA: brokerA.bootstrapServers, bootstrapB: brokerB.bootstrapServers,
                        ports: ["dc-a": port, "dc-b": 1, "witness": 2])
                    let process = try startAgentProcess(executable, yaml: yaml, in: directory)
                    defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
                    let client = HTTPClient(eventLoopGroupProvider: .singleton)
                    let up = await eventually(timeout: .seconds(60)) {
                        (try? await http(client, .GET, "http://127.0.0.1:\(port)/healthz", timeout: .seconds(2)).status) == 200
                    }
                    try await client.shutdown()
                    #expect(up, "the agent never answered /healthz")
                    kill(process.processIdentifier, SIGTERM)
                    let exited = await eventually(timeout: .seconds(30)) { !process.isRunning }
                    #expect(exited, "the agent did not stop after SIGTERM")
                    #expect(process.terminationReason == .exit)
                    #expect(process.terminationStatus == 0)
                }
            }
        }
    }

    @Test("a configuration error exits 2 and names the key")
    func configurationErrorExits2() async throws {
        let executable = try switchbackExecutable()
        try await withTemporaryDirectory(prefix: "agent-process") { directory in
            let configPath = directory.appendingPathComponent("agent.yaml")
            let yaml = agentYAML(name: "dc-a", port: 1, dataDir: directory.path, bootstrapA: "127.0.0.1:1", bootstrapB: "127.0.0.1:2", ports: [:])
                .replacingOccurrences(of: "down_after: 1s", with: "down_afer: 1s")
            try yaml.write(to: configPath, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = executable
            process.arguments = ["agent", "--config", configPath.path]
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 2)
            #expect(output.contains("detection.down_afer"))
            #expect(output.contains("did you mean 'down_after'"))
        }
    }
}
