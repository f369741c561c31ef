import Foundation

/// Hosts in network namespaces of their own, joined by a bridge, for tests of real network
/// partitions (TESTING.md). Needs root, `ip` and `iptables`; everything it makes carries a
/// test-unique prefix and is removed by `tearDown()`, also after a failure.
final class NetworkLab: @unchecked Sendable {
    // @unchecked: mutated only by the test task that owns the lab, before and after its
    // child processes run.
    let prefix: String
    let subnet: String
    private(set) var hosts: [String: String] = [:]
    private var namespaces: [String] = []
    private var processes: [Process] = []

    /// Why the lab cannot run here (not root, a tool missing), or `nil` when it can.
    static var missing: String? {
        var reasons: [String] = []
        if getuid() != 0 { reasons.append("not running as root (uid \(getuid()))") }
        for tool in ["/usr/sbin/ip", "/usr/sbin/iptables", "/usr/bin/curl"] where !FileManager.default.isExecutableFile(atPath: tool) {
            reasons.append("\(tool) is missing (script/bootstrap installs it)")
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// Whether the real-process partition suites run: always when the lab can, and in CI
    /// (`CI` set, as `.ci/run` does) even when it cannot, so that they fail there with the reason
    /// (`requireAvailable()`) instead of skipping silently. Elsewhere they are skipped and say why.
    static var shouldRun: Bool {
        guard let missing else { return true }
        if ProcessInfo.processInfo.environment["CI"].map({ !$0.isEmpty }) == true { return true }
        print("skipped: real-process partition tests: \(missing)")
        return false
    }

    /// Throws the reason when the lab cannot run (reached in CI only; see `shouldRun`).
    static func requireAvailable() throws {
        if let missing {
            throw NetworkLabUnavailable(description: "the partition tests must run in CI but cannot: \(missing); CI runs them as root after script/bootstrap")
        }
    }

    init() {
        prefix = "sb\(UInt16.random(in: 0...UInt16.max))"
        subnet = "10.\(Int.random(in: 100...199)).\(Int.random(in: 0...255))"
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try Self.launch(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw AgentTestFailure("\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    func ip(_ arguments: String...) throws { try Self.run("/usr/sbin/ip", arguments) }

    func namespace(_ host: String) -> String { "\(prefix)-\(host)" }

    /// Creates the bridge namespace.
    func setUp() throws {
        let bridge = namespace("br")
        try ip("netns", "add", bridge)
        namespaces.append(bridge)
        try ip("-n", bridge, "link", "add", "br0", "type", "bridge")
        try ip("-n", bridge, "link", "set", "br0", "up")
    }

    /// Adds host `name` with address `<subnet>.<number>` on the bridge.
    func addHost(_ name: String, number: Int) throws {
        let ns = namespace(name)
        try ip("netns", "add", ns)
        namespaces.append(ns)
        let port = "p\(number)"
        try ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", namespace("br"))
        try ip("-n", namespace("br"), "link", "set", port, "master", "br0")
        try ip("-n", namespace("br"), "link", "set", port, "up")
        try ip("-n", ns, "addr", "add", "\(subnet).\(number)/24", "dev", "eth0")
        try ip("-n", ns, "link", "set", "eth0", "up")
        try ip("-n", ns, "link", "set", "lo", "up")
        hosts[name] = "\(subnet).\(number)"
    }

    /// Starts a process inside host `name`'s namespace.
    func start(on name: String, _ executable: String, _ arguments: [String], environment: [String: String] = [:], log: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace(name), executable] + arguments
        process.environment = environment
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw AgentTestFailure("cannot create the log file \(log.path)")
        }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try Self.launch(process)
        processes.append(process)
        return process
    }

    /// Drops everything between `host` and each of `peers`, both directions, inside `host`.
    func cut(_ host: String, from peers: [String]) throws {
        for peer in peers {
            guard let address = hosts[peer] else { continue }
            try Self.run("/usr/sbin/ip", ["netns", "exec", namespace(host), "iptables", "-A", "INPUT", "-s", address, "-j", "DROP"])
            try Self.run("/usr/sbin/ip", ["netns", "exec", namespace(host), "iptables", "-A", "OUTPUT", "-d", address, "-j", "DROP"])
        }
    }

    /// Drops only what `host` receives from `peer` (an asymmetric cut).
    func cutInbound(_ host: String, from peer: String) throws {
        guard let address = hosts[peer] else { return }
        try Self.run("/usr/sbin/ip", ["netns", "exec", namespace(host), "iptables", "-A", "INPUT", "-s", address, "-j", "DROP"])
    }

    func heal(_ host: String) throws {
        try Self.run("/usr/sbin/ip", ["netns", "exec", namespace(host), "iptables", "-F", "INPUT"])
        try Self.run("/usr/sbin/ip", ["netns", "exec", namespace(host), "iptables", "-F", "OUTPUT"])
    }

    /// GET `path` from `host`'s agent port, as seen from the observer host; `nil` if unreachable.
    func get(from observer: String, _ url: String, bearer: String? = nil) -> Data? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace(observer), "/usr/bin/curl", "-s", "-f", "-m", "1"]
            + (bearer.map { ["-H", "Authorization: Bearer \($0)"] } ?? []) + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try Self.launch(process) } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? data : nil
    }

    /// Foundation's `Process.run()` on Linux is not safe to call from several threads at once
    /// (seen here: a crash in its memcpy while the overlap check asked three agents at the same
    /// time), so every launch of the lab goes through one lock; the processes still run together.
    private static let launches = NSLock()

    static func launch(_ process: Process) throws {
        launches.lock()
        defer { launches.unlock() }
        try process.run()
    }

    /// Stops every process (SIGTERM, then SIGKILL) and removes every namespace.
    func tearDown() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while processes.contains(where: \.isRunning), Date() < deadline { usleep(50_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
        for ns in namespaces.reversed() { _ = try? Self.run("/usr/sbin/ip", ["netns", "del", ns]) }
        namespaces.removeAll()
    }
}

/// The lab cannot run on this machine (see `NetworkLab.missing`).
struct NetworkLabUnavailable: Error, CustomStringConvertible {
    var description: String
}
