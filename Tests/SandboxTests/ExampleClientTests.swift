import AsyncHTTPClient
import Foundation
import Sandbox
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The example application an operator is told to copy (deploy/clients/python/orders_app.py,
/// confluent-kafka) against a live lab: it follows dc-a's sidecar through an unplanned failover
/// to dc-b and a planned failback to dc-a, and switches clusters without losing a record; the
/// failover may deliver again at most what the group consumed in one checkpoint interval, the
/// failback nothing.
@Suite("The Python example client through a failover and a failback", .serialized)
struct ExampleClientTests {
    static let rate = 50

    @Test("orders_app.py switches dc-a → dc-b → dc-a: nothing lost, no duplicate in the failback")
    func followsTheSidecarThroughFailoverAndFailback() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("example-client-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let layout = LabLayout(directory: directory.appendingPathComponent("lab"), agentPorts: try LabLayout.freeAgentPorts(), timings: LabTimings())
        let lab = try await Lab.start(layout: layout, executable: try SandboxProcess.executable().path, http: LabHTTP(client: client), progress: { _ in })
        let app = try OrdersApp.start(agent: layout.agentURL("dc-a"), rate: Self.rate, in: directory)
        do {
            try await eventually(within: .seconds(60), "the app consumes at dc-a") { app.delivered().filter { $0.site == "dc-a" }.count >= 30 }
            try await lab.blackhole("dc-a")
            try await eventually(within: .seconds(60), "the app produces and consumes at dc-b") {
                app.acknowledged().filter { $0.site == "dc-b" }.count >= 30 && app.delivered().contains { $0.site == "dc-b" }
            }
            try await lab.heal("dc-a")
            try await eventually(within: .seconds(60), "the agents see each other and both clusters") { await LabStatus.read(lab).isWhole }
            try await eventually(within: .seconds(60), "a flow runs dc-b → dc-a") {
                guard let answer = await lab.http.get(layout.agentURL("dc-a") + "/v1/active"), answer.status == 200,
                    let active = try? JSONDecoder().decode(SidecarAnswer.self, from: answer.body)
                else { return false }
                return active.mirrorFrom == "dc-b" && active.mirrorTo == "dc-a"
            }
            let failback = app.acknowledged().count
            try await lab.switchover(to: "dc-a", via: "dc-b")
            try await eventually(within: .seconds(60), "the app produces at dc-a again") {
                app.acknowledged().dropFirst(failback).filter { $0.site == "dc-a" }.count >= 30
            }
            app.stop()
            try await eventually(within: .seconds(30), "the app exits") { !app.process.isRunning }
        } catch {
            app.stop()
            await lab.stop()
            try await client.shutdown()
            Issue.record("app log: \(app.logTail)")
            throw error
        }
        await lab.stop()
        try await client.shutdown()

        let acknowledged = app.acknowledged()
        let delivered = app.delivered()
        let sites = delivered.map(\.site).reduce(into: [String]()) { runs, site in if runs.last != site { runs.append(site) } }
        #expect(sites == ["dc-a", "dc-b", "dc-a"], "the app consumed at these sites in turn: \(sites)")
        // What was acknowledged before the app stopped and never delivered is lost; what it
        // acknowledged in its last moments may still be in flight to the consumer.
        let deliveredKeys = Set(delivered.map(\.key))
        let lost = acknowledged.dropLast(Self.rate).filter { !deliveredKeys.contains($0.key) }
        #expect(lost.isEmpty, "lost \(lost.count), e.g. \(lost.prefix(5)); app log: \(app.logTail)")
        var seen: Set<String> = []
        var twice: [String: [String]] = [:]
        var run = 0
        var previous = delivered.first?.site
        for record in delivered {
            if record.site != previous { run += 1; previous = record.site }
            if !seen.insert(record.key).inserted { twice[run == 1 ? "failover" : "failback", default: []].append(record.key) }
        }
        #expect((twice["failover"]?.count ?? 0) <= Self.rate, "the failover may deliver again one checkpoint interval (1 s) of records: \(twice["failover"]?.count ?? 0)")
        #expect(twice["failback"] == nil, "delivered twice in the planned failback: \(twice["failback"] ?? [])")
    }
}

/// `orders_app.py` as a child process writing its acknowledged and delivered records to files.
struct OrdersApp {
    struct Record: Decodable, Hashable {
        var key: String
        var site: String
    }

    let process: Process
    let ackedFile: URL
    let deliveredFile: URL
    let logFile: URL

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/clients/python/orders_app.py")
    }

    static func start(agent: String, rate: Int, in directory: URL) throws -> OrdersApp {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let app = OrdersApp(
            process: Process(), ackedFile: directory.appendingPathComponent("acked.jsonl"),
            deliveredFile: directory.appendingPathComponent("delivered.jsonl"), logFile: directory.appendingPathComponent("orders-app.log"))
        _ = FileManager.default.createFile(atPath: app.logFile.path, contents: nil)
        app.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        app.process.arguments = [
            "python3", script.path, "--agent", agent, "--rate", String(rate), "--wait", "5", "--acked", app.ackedFile.path, "--delivered", app.deliveredFile.path,
        ]
        app.process.standardInput = FileHandle.nullDevice
        app.process.standardOutput = FileHandle.nullDevice
        app.process.standardError = try FileHandle(forWritingTo: app.logFile)
        try app.process.run()
        return app
    }

    func acknowledged() -> [Record] { Self.records(ackedFile) }
    func delivered() -> [Record] { Self.records(deliveredFile) }

    /// What the app was told by the sidecar, and its last lines.
    var logTail: String {
        let lines = ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n")
        return (lines.filter { $0.contains("sidecar:") }.suffix(12) + ["…"] + lines.suffix(6)).joined(separator: "\n")
    }

    /// Asks the app to stop (SIGTERM: it flushes, commits and exits).
    func stop() { if process.isRunning { kill(process.processIdentifier, SIGTERM) } }

    private static func records(_ file: URL) -> [Record] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        // The last line may be half written.
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    }
}
