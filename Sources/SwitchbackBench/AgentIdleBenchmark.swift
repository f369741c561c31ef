import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The idle cost of agents: three `switchback agent` processes (dc-a, dc-b, witness) over two
/// LocalKafka brokers in this process, measured from `/proc` once dc-a serves steadily.
struct AgentIdleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-idle",
        abstract: "Resident memory and CPU of idle `switchback agent` processes (the executable next to this one).",
        discussion: """
            Starts two LocalKafka brokers in this process and dc-a, dc-b and the witness as child
            processes of the `switchback` executable built next to switchback-bench, waits until
            dc-a serves as active steadily, then reads VmRSS and utime+stime of each agent from
            /proc over the window. CPU % is CPU time over wall time (100 % = one core).
            """
    )

    @Option(help: "Length of the idle measurement window, seconds.")
    var seconds = 20

    @Option(help: "Timings of the agents: fast or default.")
    var timings: AgentTimings = .default

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be at least 1") }
    }

    func run() async throws {
        var logger = Logger(label: "switchback.bench.agent-idle")
        logger.logLevel = .critical
        let executable = try Self.agentExecutable()
        let clusters = try await SiteClusters.start(logger: logger)
        let layout: AgentLayout
        do {
            layout = try AgentLayout(timings: timings)
        } catch {
            await clusters.stop()
            throw error
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var processes: [String: Process] = [:]
        let result = await Result(catching: {
            for name in AgentLayout.names {
                processes[name] = try Self.launch(executable, name: name, layout: layout, clusters: clusters)
            }
            return try await measure(layout: layout, processes: processes, client: client)
        })
        for process in processes.values where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        for process in processes.values { await Self.waitForExit(process) }
        try? await client.shutdown()
        await clusters.stop()
        layout.remove()
        let rows = try result.get()
        printNow("\n" + TextTable(header: ["agent", "pid", "VmRSS MiB (end)", "VmRSS MiB (peak)", "CPU s", "CPU %"], rows: rows).rendered)
        printNow("CPU % = (utime+stime at end − at start) / wall time of the window; 100 % is one core.")
    }

    private func measure(layout: AgentLayout, processes: [String: Process], client: HTTPClient) async throws -> [[String]] {
        printNow("Idle agents: \(AgentLayout.names.joined(separator: ", ")) as `switchback agent` processes, 2 LocalKafka brokers in the benchmark process")
        printNow("timings \(timings.summary)")
        let deadline = ContinuousClock.now + .seconds(90)
        var steadySince: ContinuousClock.Instant?
        while true {
            for (name, process) in processes where !process.isRunning {
                throw BenchFailure("agent \(name) exited with status \(process.terminationStatus) before the measurement")
            }
            guard ContinuousClock.now < deadline else { throw BenchFailure("dc-a was not served steadily as active within 90 s") }
            let a = await layout.active("dc-a", client: client)
            let b = await layout.active("dc-b", client: client)
            if let a, let b, a.servingHere, b.activeSite == "dc-a", !b.servingHere {
                let since = steadySince ?? ContinuousClock.now
                steadySince = since
                // Past start-up work (warm-up probes, first lease, first renewals).
                if ContinuousClock.now - since >= timings.lease + .seconds(2) { break }
            } else {
                steadySince = nil
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        printNow("dc-a serves steadily; measuring \(seconds) s of idle…")
        var start: [String: ProcessUsage] = [:]
        var peak: [String: Int] = [:]
        for (name, process) in processes { start[name] = ProcessUsage.read(pid: process.processIdentifier) }
        let began = ContinuousClock.now
        let end = began + .seconds(seconds)
        while ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(500))
            for (name, process) in processes {
                if let usage = ProcessUsage.read(pid: process.processIdentifier) { peak[name] = max(peak[name] ?? 0, usage.residentBytes) }
            }
        }
        let wall = ContinuousClock.now - began
        let stillServing = await layout.active("dc-a", client: client)?.servingHere == true
        if !stillServing { printNow("warning: dc-a no longer serves at the end of the window; the figures include an election") }
        return try AgentLayout.names.map { name -> [String] in
            guard let process = processes[name], let first = start[name], let last = ProcessUsage.read(pid: process.processIdentifier) else {
                throw BenchFailure("cannot read /proc for agent \(name); this benchmark needs Linux")
            }
            let cpu = last.cpuTime - first.cpuTime
            let mebibyte = 1024.0 * 1024.0
            return [
                name, String(process.processIdentifier),
                TextTable.format(Double(last.residentBytes) / mebibyte, decimals: 1),
                TextTable.format(Double(max(peak[name] ?? 0, last.residentBytes)) / mebibyte, decimals: 1),
                TextTable.format(cpu.secondsValue, decimals: 2),
                TextTable.format(100 * cpu.secondsValue / wall.secondsValue, decimals: 2),
            ]
        }
    }

    /// `switchback` in the directory of this executable (both products of one `swift build`).
    static func agentExecutable() throws -> URL {
        guard let bench = Bundle.main.executableURL else { throw BenchFailure("cannot find this executable's directory") }
        let candidate = bench.deletingLastPathComponent().appendingPathComponent("switchback")
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
            throw BenchFailure("\(candidate.path) is missing; build it first: swift build -c release --product switchback")
        }
        return candidate
    }

    static func launch(_ executable: URL, name: String, layout: AgentLayout, clusters: SiteClusters) throws -> Process {
        let path = layout.directory.appendingPathComponent("\(name).yaml")
        try layout.yaml(name, clusters: clusters).write(to: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["agent", "--config", path.path, "--log-level", "error"]
        process.environment = AgentLayout.secretEnvironment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func waitForExit(_ process: Process) async {
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

extension AgentTimings: ExpressibleByArgument {}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
