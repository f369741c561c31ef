import Foundation
import Synchronization

/// Who runs the mirror flows in the lab.
public enum FlowMode: String, Sendable, CaseIterable {
    /// The agents run the flows themselves (the data plane): the sandbox starts nothing.
    case agents
    /// The agents do not run flows yet, so the sandbox keeps one `switchback mirror` process
    /// running at the standby site, copying from the active site, and replaces it when the
    /// active site changes. This mode goes away once every agent runs its flows.
    case mirrorProcess = "mirror-process"
}

/// The `mirror-process` flow mode: one `switchback mirror --from ACTIVE` at the standby site,
/// restarted after a second when it exits and replaced when the active site changes. The old
/// direction keeps running for ``drain`` after a change, so what the old active site took
/// just before it was demoted still reaches the new one (the agents' data plane waits for
/// the lag to be zero instead; this mode cannot know the lag).
public final class MirrorProcessFlows: Sendable {
    private let layout: LabLayout
    private let executable: String
    private let current = Mutex<(from: String, to: String, process: ChildProcess)?>(nil)
    private let draining = Mutex<[ChildProcess]>([])
    /// How long the old direction keeps copying after the active site changed.
    static let drain = Duration.seconds(5)

    public init(layout: LabLayout, executable: String) {
        self.layout = layout
        self.executable = executable
    }

    /// The direction of the running mirror, if one runs.
    public var direction: (from: String, to: String)? { current.withLock { $0.map { ($0.from, $0.to) } } }

    /// Follows `activeSite` (read every 200 ms) until cancelled, then stops the mirror.
    public func run(activeSite: @escaping @Sendable () -> String?) async {
        while !Task.isCancelled {
            if let active = activeSite(), let standby = LabLayout.sites.first(where: { $0 != active }) {
                let running = current.withLock { $0 }
                if running == nil || running?.from != active || running?.process.isRunning == false {
                    if let running, running.from != active, running.process.isRunning {
                        retire(running.process)
                    } else if running?.from == active {
                        try? await Task.sleep(for: .seconds(1))
                    }
                    if let process = try? await Spawner.shared.start(
                        name: "mirror \(active)→\(standby)", executable: executable,
                        arguments: ["mirror", "--config", layout.configurationFile(standby).path, "--from", active, "--log-level", "warning"],
                        log: layout.log("mirror-\(standby)"))
                    {
                        current.withLock { $0 = (active, standby, process) }
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await stop()
    }

    /// Lets `process` copy for ``drain`` more, then stops it.
    private func retire(_ process: ChildProcess) {
        draining.withLock { $0.append(process) }
        Task {
            try? await Task.sleep(for: Self.drain)
            await process.stop(grace: .seconds(5))
            draining.withLock { $0.removeAll { $0 === process } }
        }
    }

    public func stop() async {
        let running = current.withLock { value in
            defer { value = nil }
            return value
        }
        await running?.process.stop(grace: .seconds(5))
        for process in draining.withLock({ $0 }) { await process.stop(grace: .seconds(5)) }
    }

    public func kill() {
        current.withLock { $0?.process.kill() }
        for process in draining.withLock({ $0 }) { process.kill() }
    }
}
