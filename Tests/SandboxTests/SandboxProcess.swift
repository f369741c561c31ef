import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `switchback sandbox` as a real child process of a test, its standard error in a file.
struct SandboxProcess {
    let process: Process
    let directory: URL
    let errors: URL

    static func executable() throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("switchback")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw SandboxTestFailure("the switchback executable was not found near \(CommandLine.arguments[0]); run swift build first")
    }

    /// Starts `switchback sandbox ARGUMENTS --dir DIRECTORY/run` without a terminal.
    static func start(_ arguments: [String], in directory: URL) throws -> SandboxProcess {
        let run = directory.appendingPathComponent("run", isDirectory: true)
        let errors = directory.appendingPathComponent("sandbox.stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = try executable()
        process.arguments = ["sandbox", "--dir", run.path] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("sandbox.stdout").creatingFile())
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        return SandboxProcess(process: process, directory: run, errors: errors)
    }

    var standardError: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit; its status.
    func exitStatus(within limit: Duration) async throws -> Int32 {
        try await eventually(within: limit, "the sandbox exits") { !process.isRunning }
        return process.terminationStatus
    }
}

/// The processes (other than the test) whose command line mentions `path`: the sandbox itself
/// (`--dir`) and its brokers, agents and mirrors, which all name files under its directory.
func processesMentioning(_ path: String) -> [Int32] {
    let me = getpid()
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard pid != me, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let text = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return text.contains(path)
    }
}

struct SandboxTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension URL {
    fileprivate func creatingFile() -> URL {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return self
    }
}
