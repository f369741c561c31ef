import CSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A child process started with `posix_spawn`, for every place that runs another program (the
/// sandbox's brokers and agents, a runbook's `exec` step, benchmarks, tests).
///
/// Why not Foundation's `Process`: on Linux its `run()` scans `/proc/self/fd` with a 256-byte
/// copy of each directory entry's name, reading past glibc's buffer; when that buffer ends
/// next to an unmapped page the whole parent crashes (swift-corelibs-foundation PR #5472, not
/// in Swift 6.3.1). A lock around launches does not help: the over-read depends on the
/// descriptor table, not on concurrency. Here the kernel closes the descriptors instead
/// (`closefrom` as a spawn action), and nothing reads `/proc`.
///
/// The child starts with the default disposition of every signal and an empty signal mask
/// (a parent that ignores SIGPIPE must not hand that to a broker), in a process group of its
/// own unless asked otherwise, so a Ctrl-C at the terminal reaches only the parent.
public final class SpawnedProcess: Sendable {
    /// Where a child's standard input comes from.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// A pipe: write to ``SpawnedProcess/standardInput``.
        case pipe
        /// The file at this path.
        case file(String)
        /// The parent's own.
        case inherit
    }

    /// Where a child's standard output or error goes.
    public enum Output: Sendable {
        /// `/dev/null`.
        case discard
        /// A pipe: read ``SpawnedProcess/standardOutput`` / ``SpawnedProcess/standardError``.
        case pipe
        /// Appended to the file at this path (created if missing).
        case append(String)
        /// The parent's own.
        case inherit
        /// For standard error only: wherever standard output goes (one stream, in order).
        case sameAsOutput
    }

    /// How a child ended.
    public enum Termination: Sendable, Hashable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        /// The exit code, or 128 + the signal as a shell reports it.
        public var status: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            }
        }

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }
    }

    public let processIdentifier: Int32
    /// The write end of the child's standard input, with ``Input/pipe``.
    public let standardInput: FileHandle?
    /// The read end of the child's standard output, with ``Output/pipe``.
    public let standardOutput: FileHandle?
    /// The read end of the child's standard error, with ``Output/pipe``.
    public let standardError: FileHandle?
    private let ended = Mutex<Termination?>(nil)

    private init(pid: Int32, input: FileHandle?, output: FileHandle?, error: FileHandle?) {
        processIdentifier = pid
        standardInput = input
        standardOutput = output
        standardError = error
    }

    /// Starts `executable` (a path, or a name looked up in `PATH`) with `arguments`.
    /// - Parameters:
    ///   - environment: the child's whole environment; `nil` passes the parent's.
    ///   - directory: the child's working directory; `nil` keeps the parent's.
    ///   - newProcessGroup: whether the child leads a process group of its own.
    /// - Throws: ``SpawnError`` naming the program and the reason (not found, not executable…).
    public static func spawn(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, directory: String? = nil,
        input: Input = .null, output: Output = .inherit, error: Output = .inherit, newProcessGroup: Bool = true
    ) throws(SpawnError) -> SpawnedProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // Descriptors the parent keeps (its pipe ends) and those only the child needs (closed
        // here after the spawn).
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        func closeAll() {
            for descriptor in parentEnds + childEnds { close(descriptor) }
        }
        func pipeEnds() throws(SpawnError) -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            guard switchback_pipe_cloexec(&ends) == 0 else {
                let code = errno
                closeAll()
                throw SpawnError(executable, "cannot create a pipe: \(String(cString: strerror(code)))")
            }
            return (ends[0], ends[1])
        }

        var inputHandle: FileHandle?
        switch input {
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        case .inherit: break
        case .pipe:
            let ends = try pipeEnds()
            childEnds.append(ends.read)
            parentEnds.append(ends.write)
            posix_spawn_file_actions_adddup2(&actions, ends.read, 0)
            inputHandle = FileHandle(fileDescriptor: ends.write, closeOnDealloc: true)
        }
        func redirect(_ output: Output, to descriptor: Int32) throws(SpawnError) -> FileHandle? {
            switch output {
            case .discard:
                posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            case .append(let path):
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_APPEND, 0o640)
            case .inherit: break
            case .sameAsOutput:
                posix_spawn_file_actions_adddup2(&actions, 1, descriptor)
            case .pipe:
                let ends = try pipeEnds()
                childEnds.append(ends.write)
                parentEnds.append(ends.read)
                posix_spawn_file_actions_adddup2(&actions, ends.write, descriptor)
                return FileHandle(fileDescriptor: ends.read, closeOnDealloc: true)
            }
            return nil
        }
        let outputHandle = try redirect(output, to: 1)
        let errorHandle = try redirect(error, to: 2)
        switchback_spawn_addclosefrom(&actions, 3)
        if let directory { switchback_spawn_addchdir(&actions, directory) }

        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let pairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = pairs.map { strdup($0) }
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let result = (argv + [nil]).withUnsafeBufferPointer { arguments in
            (envp + [nil]).withUnsafeBufferPointer { variables in
                let argumentsPointer = UnsafeMutablePointer(mutating: arguments.baseAddress!)
                let variablesPointer = UnsafeMutablePointer(mutating: variables.baseAddress!)
                return executable.contains("/")
                    ? posix_spawn(&pid, executable, &actions, &attributes, argumentsPointer, variablesPointer)
                    : posix_spawnp(&pid, executable, &actions, &attributes, argumentsPointer, variablesPointer)
            }
        }
        for descriptor in childEnds { close(descriptor) }
        guard result == 0 else {
            for descriptor in parentEnds { close(descriptor) }
            throw SpawnError(executable, String(cString: strerror(result)))
        }
        return SpawnedProcess(pid: pid, input: inputHandle, output: outputHandle, error: errorHandle)
    }

    /// Runs a program to its end and returns how it ended with its standard output and error
    /// (one stream, in order, as a terminal would show them), without holding a pool thread.
    public static func run(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, directory: String? = nil,
        input: Input = .null
    ) async throws(SpawnError) -> (termination: Termination, output: String) {
        let child = try spawn(executable, arguments, environment: environment, directory: directory, input: input, output: .pipe, error: .sameAsOutput)
        let output: Data = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: child.standardOutput?.readDataToEndOfFile() ?? Data()) }
            thread.name = "switchback.spawn.read"
            thread.start()
        }
        return (await child.terminated(), String(decoding: output, as: UTF8.self))
    }

    /// How the child ended, or `nil` while it runs. Reaps it when it has ended.
    public var termination: Termination? {
        if let known = ended.withLock({ $0 }) { return known }
        return reap(blocking: false)
    }

    public var isRunning: Bool { termination == nil }

    /// Sends `signal` to the child, unless it has been reaped (its pid may then be another's).
    public func send(_ signal: Int32) {
        guard isRunning else { return }
        kill(processIdentifier, signal)
    }

    /// Blocks the calling thread until the child ends. Call off the cooperative pool
    /// (``terminated()`` is the async form).
    @discardableResult
    public func waitUntilExit() -> Termination {
        while true {
            if let known = termination { return known }
            if let reaped = reap(blocking: true) { return reaped }
        }
    }

    /// Waits, without holding a pool thread, until the child ends.
    @discardableResult
    public func terminated() async -> Termination {
        if let known = termination { return known }
        return await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.waitUntilExit()) }
            thread.name = "switchback.spawn.wait"
            thread.start()
        }
    }

    /// Waits until the child ends or `limit` passes; whether it ended.
    public func terminated(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// One `waitpid`. Two callers may race (a blocking wait and a poll): the one that reaps
    /// records the end; the other, told ECHILD, reads it once recorded.
    private func reap(blocking: Bool) -> Termination? {
        var status: Int32 = 0
        let result = waitpid(processIdentifier, &status, blocking ? 0 : WNOHANG)
        if result == processIdentifier {
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
            let signal = status & 0x7f
            let end: Termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
            ended.withLock { $0 = end }
            return end
        }
        if result < 0, errno == ECHILD {
            // Reaped by the other caller, which records it right after its waitpid returns.
            while true {
                if let known = ended.withLock({ $0 }) { return known }
                if !blocking { return nil }
                usleep(1_000)
            }
        }
        return nil
    }
}

/// A program could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public let executable: String
    public let reason: String

    init(_ executable: String, _ reason: String) {
        self.executable = executable
        self.reason = reason
    }

    public var description: String { "cannot start \(executable): \(reason)" }
}
