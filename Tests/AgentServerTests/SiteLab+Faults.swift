import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Process faults on the lab's agents. Network faults are `NetworkLab.cut`/`cutInbound`/`heal`
/// (iptables inside a host's namespace), cluster faults `brokerControl` (LocalKafka's control
/// endpoint).
extension SiteLab {
    /// Kills `host`'s agent with SIGKILL (a crash: no graceful shutdown, nothing flushed that
    /// was not already durable) and waits until the process is gone; `startAgent(host)` brings
    /// it back from its data directory.
    /// - Throws: `AgentTestFailure` when the process outlives the signal by 10 s.
    func killAgent(_ host: String) async throws {
        guard let process = agentProcesses[host] else { throw AgentTestFailure("no agent was started on host \(host)") }
        kill(process.processIdentifier, SIGKILL)
        let gone = await eventually(timeout: .seconds(10)) { !process.isRunning }
        guard gone else { throw AgentTestFailure("agent \(host) survived SIGKILL for 10 s") }
    }
}
