import Foundation
import Spawning
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One program the sandbox runs (a broker, an agent, a mirror), with its output in a log file.
///
/// Children cannot outlive the sandbox: each runs under `setpriv --pdeathsig KILL` (the kernel
/// kills it when the sandbox dies, even by SIGKILL) in a process group of its own, so a Ctrl-C
/// at the terminal reaches only the sandbox, which then stops its children in order.
/// - Important: the kernel sends the death signal when the *thread* that started the child
///   ends, so every child is started from one thread that lives as long as the sandbox
///   (``Spawner``), never from a pool thread that may be retired.
public final class ChildProcess: Sendable {
    /// What the sandbox calls this child in messages (`broker dc-a`, `agent witness`).
    public let name: String
    public let log: URL
    private let process: SpawnedProcess

    init(name: String, process: SpawnedProcess, log: URL) {
        self.name = name
        self.process = process
        self.log = log
    }

    public var processIdentifier: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var exitStatus: Int32? { process.termination?.status }

    /// Sends `signal` to the child (SIGSTOP/SIGCONT pause and resume it).
    public func send(_ signal: Int32) {
        process.send(signal)
    }

    /// Asks the child to stop (SIGCONT first, so a paused child can act on it, then SIGTERM)
    /// and waits up to `grace`; kills it with SIGKILL if it is still there.
    /// Runs to the end even when the calling task is cancelled (stopping is what a cancelled
    /// sandbox does).
    /// - Returns: whether it stopped within the grace period.
    @discardableResult
    public func stop(grace: Duration) async -> Bool {
        await Task { [self] in
            guard process.isRunning else { return true }
            send(SIGCONT)
            send(SIGTERM)
            if await waitForExit(within: grace) { return true }
            kill()
            _ = await waitForExit(within: .seconds(5))
            return false
        }.value
    }

    /// Kills the child at once (SIGKILL).
    public func kill() {
        process.send(SIGKILL)
    }

    /// Polls until the child has exited or `limit` has passed; whether it exited.
    public func waitForExit(within limit: Duration) async -> Bool {
        await process.terminated(within: limit)
    }

    /// The last `bytes` of the child's log, for error messages.
    public func logTail(bytes: Int = 2_000) -> String {
        guard let data = try? Data(contentsOf: log) else { return "" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }
}

/// Starts child processes from one dedicated thread that lives as long as the process (see
/// ``ChildProcess``: the parent-death signal is tied to the starting thread).
public final class Spawner: Sendable {
    /// A spawn request and where its result goes.
    private struct Request: Sendable {
        let work: @Sendable () -> Void
    }

    private let queue = Mutex<[Request]>([])
    private let wakeUp = DispatchSemaphore(value: 0)

    public static let shared = Spawner()

    private init() {
        let thread = Thread { [self] in
            while true {
                wakeUp.wait()
                let next = queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                next?.work()
            }
        }
        thread.name = "switchback.sandbox.spawner"
        thread.start()
    }

    /// Starts `executable` with `arguments`, appending its standard output and error to `log`.
    /// - Parameter environment: added to the sandbox's own environment (secrets go here, never
    ///   on the command line, where `ps` shows them).
    public func start(
        name: String, executable: String, arguments: [String], environment: [String: String] = [:], log: URL
    ) async throws -> ChildProcess {
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let started: Result<SpawnedProcess, SandboxError> = await withCheckedContinuation { continuation in
            let request = Request {
                do {
                    // setpriv execs the program in the same process, so the pid is the program's.
                    let process = try SpawnedProcess.spawn(
                        "/usr/bin/setpriv", ["--pdeathsig", "KILL", "--", executable] + arguments,
                        environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                        output: .append(log.path), error: .append(log.path))
                    continuation.resume(returning: .success(process))
                } catch {
                    continuation.resume(returning: .failure(SandboxError("cannot start \(name) (\(executable)): \(error)")))
                }
            }
            queue.withLock { $0.append(request) }
            wakeUp.signal()
        }
        let process = try started.get()
        return ChildProcess(name: name, process: process, log: log)
    }
}
