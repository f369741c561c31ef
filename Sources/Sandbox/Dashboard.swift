import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The interactive sandbox: a screen redrawn in place twice a second (plain ANSI) and
/// single-key commands that inject faults and run procedures.
struct Dashboard: Sendable {
    let session: SandboxSession

    /// One key and what it does.
    enum Command: Character, CaseIterable {
        case failA = "a", failB = "b", heal = "h", pause = "p", partition = "n", switchover = "s", failback = "f", drill = "d", quit = "q"

        var help: String {
            switch self {
            case .failA: "a fail dc-a"
            case .failB: "b fail dc-b"
            case .heal: "h heal all"
            case .pause: "p pause/resume active agent"
            case .partition: "n partition/heal active agent"
            case .switchover: "s switchover"
            case .failback: "f failback to dc-a"
            case .drill: "d dr-drill"
            case .quit: "q quit"
            }
        }
    }

    /// Runs until `q`, Ctrl-C or cancellation; restores the terminal. Exit status 0.
    func run() async -> Int32 {
        let terminal = RawTerminal()
        terminal.enter()
        defer { terminal.leave() }
        let keys = KeyReader.start()
        let message = MessageLine()
        var previous: StatusSnapshot?
        var nextDraw = ContinuousClock.now
        while !Task.isCancelled {
            while let byte = keys.next() {
                if byte == 3 { return 0 }  // Ctrl-C: the terminal is raw, so it arrives as a byte.
                guard let command = Command(rawValue: Character(Unicode.Scalar(byte))) else { continue }
                if command == .quit { return 0 }
                message.set("\(command.help)…")
                let session = self.session
                Task {
                    let outcome: String
                    do {
                        outcome = try await Self.perform(command, session)
                    } catch {
                        outcome = "\(command.help): \(error)"
                    }
                    message.set(outcome)
                }
            }
            if ContinuousClock.now >= nextDraw {
                let status = await LabStatus.read(session.lab)
                let snapshot = StatusSnapshot.take(session, status: status, previous: previous)
                previous = snapshot
                terminal.draw(screen(snapshot, message: message.text))
                nextDraw = .now + .milliseconds(500)
            }
            try? await Task.sleep(for: .milliseconds(30))
        }
        return 0
    }

    static func perform(_ command: Command, _ session: SandboxSession) async throws -> String {
        let lab = session.lab
        let active = session.watch.activeSite ?? "dc-a"
        let standby = LabLayout.sites.first { $0 != active } ?? "dc-b"
        switch command {
        case .failA:
            try await lab.blackhole("dc-a")
            return "dc-a's cluster blackholed"
        case .failB:
            try await lab.blackhole("dc-b")
            return "dc-b's cluster blackholed"
        case .heal:
            try await lab.healAll()
            return "every fault healed"
        case .pause:
            if lab.activeFaults.contains(.paused(active)) {
                try lab.resume(active)
                return "agent \(active) resumed"
            }
            try lab.pause(active)
            return "agent \(active) paused (SIGSTOP)"
        case .partition:
            if let cut = lab.activeFaults.first(where: { if case .partitioned = $0 { true } else { false } }), case .partitioned(let agent) = cut {
                lab.heal(partitionOf: agent)
                return "partition of \(agent) healed"
            }
            lab.partition(active)
            return "agent \(active) cut off from its peers"
        case .switchover:
            try await lab.switchover(to: standby, via: active)
            return "switchover to \(standby) requested"
        case .failback:
            try await lab.switchover(to: "dc-a", via: active)
            return "failback to dc-a requested"
        case .drill:
            try await lab.runRunbook("dr-drill", via: active)
            return "dr-drill started on \(active)"
        case .quit:
            return ""
        }
    }

    func screen(_ snapshot: StatusSnapshot, message: String) -> [String] {
        let newest = snapshot.newest
        var lines = [
            "switchback sandbox — \(String(format: "%.0f", snapshot.elapsed)) s — directory \(session.lab.layout.directory.path)",
            "",
            "active site   \(newest?.activeSite ?? "?")    epoch \(newest.map { String($0.epoch) } ?? "?")    sidecar \(newest?.effectiveState.rawValue ?? "?")",
            "agents        " + LabLayout.agents.map { "\($0): \(snapshot.serving[$0] ?? "?")" }.joined(separator: "   "),
            "clusters      " + LabLayout.sites.map { "\($0): \(snapshot.health[$0] ?? "?")" }.joined(separator: "   "),
            "mirror        \(snapshot.mirror)",
            "workload      \(snapshot.producedPerSecond)/s acknowledged   \(snapshot.deliveredPerSecond)/s delivered",
            "records       acknowledged \(snapshot.totals.acknowledged)   delivered \(snapshot.totals.deliveredDistinct)   lost so far \(snapshot.undelivered)   delivered twice \(snapshot.totals.duplicated)",
            "faults        " + (snapshot.faults.isEmpty ? "none" : snapshot.faults.joined(separator: ", ")),
            "status page   \(session.lab.layout.agentURL(newest?.activeSite ?? "dc-a"))/",
            "",
            "recent audit events:",
        ]
        for entry in recentAuditEvents(session.lab.layout, count: 8) {
            let time = entry.time.formatted(.iso8601.time(includingFractionalSeconds: false))
            lines.append("  \(time) \(entry.agent) e\(entry.epoch) \(entry.kind): \(entry.message.prefix(90))")
        }
        lines += ["", "keys: " + Command.allCases.map(\.help).joined(separator: " | "), "> \(message)"]
        return lines
    }
}

/// The terminal in raw mode (no echo, no line buffering, Ctrl-C as a byte) with the cursor
/// hidden, restored on `leave()`.
final class RawTerminal: @unchecked Sendable {
    // @unchecked: used only by the dashboard's task.
    private var saved = termios()
    private var entered = false

    func enter() {
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        entered = true
        write("\u{1B}[?1049h\u{1B}[?25l")
    }

    func leave() {
        write("\u{1B}[?25h\u{1B}[?1049l")
        if entered { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        entered = false
    }

    /// Redraws the whole screen: home, each line cleared to its end, the rest cleared.
    func draw(_ lines: [String]) {
        write("\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\r\n") + "\r\n\u{1B}[J")
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// Bytes from standard input, read by a thread of their own (a blocking read must not hold a
/// pool thread).
final class KeyReader: Sendable {
    private let pending = Mutex<[UInt8]>([])

    static func start() -> KeyReader {
        let reader = KeyReader()
        let thread = Thread {
            var byte: UInt8 = 0
            while Glibc.read(STDIN_FILENO, &byte, 1) == 1 {
                reader.pending.withLock { $0.append(byte) }
            }
        }
        thread.name = "switchback.sandbox.keys"
        thread.start()
        return reader
    }

    /// The next key pressed, if any.
    func next() -> UInt8? { pending.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
}

/// The dashboard's last line: what the last command did.
final class MessageLine: Sendable {
    private let value = Mutex("ready")
    var text: String { value.withLock { $0 } }
    func set(_ text: String) { value.withLock { $0 = text } }
}
