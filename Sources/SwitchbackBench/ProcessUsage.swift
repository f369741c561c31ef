import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process's resident memory and CPU time so far, read from `/proc/<pid>/status` and
/// `/proc/<pid>/stat` (Linux only).
struct ProcessUsage {
    /// `VmRSS`, bytes.
    var residentBytes: Int
    /// User plus system CPU time (`utime` + `stime`).
    var cpuTime: Duration

    /// The usage of `pid` now, or nil when `/proc` does not have it (not Linux, or the process is gone).
    static func read(pid: Int32) -> ProcessUsage? {
        guard let resident = BenchBrokerProcess.residentBytes(pid: pid),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let commandEnd = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come the fields from the third on: utime and stime are the 14th
        // and 15th, in clock ticks.
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        let ticksPerSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]), ticksPerSecond > 0 else { return nil }
        let ticks = user + system
        let cpu = Duration.seconds(ticks / ticksPerSecond) + .seconds(Double(ticks % ticksPerSecond) / Double(ticksPerSecond))
        return ProcessUsage(residentBytes: resident, cpuTime: cpu)
    }
}
