import Foundation
import Spawning
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("child processes through posix_spawn")
struct SpawnedProcessTests {
    @Test func exitCodesSignalsAndPipesAreReported() async throws {
        let ok = try SpawnedProcess.spawn("/bin/sh", ["-c", "read line; echo \"got $line\"; echo oops >&2; exit 3"], input: .pipe, output: .pipe, error: .pipe)
        ok.standardInput?.write(Data("hello\n".utf8))
        try ok.standardInput?.close()
        let output = ok.standardOutput?.readDataToEndOfFile() ?? Data()
        let error = ok.standardError?.readDataToEndOfFile() ?? Data()
        #expect(await ok.terminated() == .exited(3))
        #expect(String(decoding: output, as: UTF8.self) == "got hello\n")
        #expect(String(decoding: error, as: UTF8.self) == "oops\n")

        let sleeper = try SpawnedProcess.spawn("sleep", ["60"])
        #expect(sleeper.isRunning)
        sleeper.send(SIGKILL)
        #expect(await sleeper.terminated() == .signalled(SIGKILL))
        #expect(sleeper.termination?.status == 137)
    }

    @Test func theChildGetsTheGivenEnvironmentDirectoryAndOnlyItsThreeDescriptors() async throws {
        // Descriptors the parent holds without O_CLOEXEC must not reach the child.
        let leaked = (0..<20).map { _ in open("/dev/null", O_RDONLY) }
        defer { leaked.forEach { close($0) } }
        let directory = FileManager.default.temporaryDirectory.path
        let child = try SpawnedProcess.spawn(
            "/bin/sh", ["-c", "echo $SPAWN_TEST; pwd; ls /proc/self/fd | wc -l"],
            environment: ["SPAWN_TEST": "value", "PATH": "/usr/bin:/bin"], directory: directory, output: .pipe)
        let lines = String(decoding: child.standardOutput?.readDataToEndOfFile() ?? Data(), as: UTF8.self).split(separator: "\n")
        #expect(await child.terminated() == .exited(0))
        #expect(lines.count == 3)
        #expect(lines.first == "value")
        #expect(lines.dropFirst().first.map(String.init) == URL(fileURLWithPath: directory).resolvingSymlinksInPath().path)
        // 0, 1, 2, and the directory `ls` itself opens.
        #expect(lines.last.map { $0.trimmingCharacters(in: .whitespaces) } == "4")
    }

    @Test func outputAppendsToAFileAndAMissingProgramIsAClearError() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString).log").path
        defer { unlink(log) }
        for word in ["one", "two"] {
            let child = try SpawnedProcess.spawn("/bin/echo", [word], output: .append(log), error: .append(log))
            #expect(await child.terminated() == .exited(0))
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "one\ntwo\n")
        #expect(throws: SpawnError.self) { try SpawnedProcess.spawn("/nonexistent/program") }
        do {
            _ = try SpawnedProcess.spawn("/nonexistent/program")
        } catch {
            #expect(error.description.contains("/nonexistent/program"))
            #expect(error.description.contains("No such file"))
        }
    }

    /// What Foundation's `Process.run()` crashed on (many launches with a large descriptor
    /// table): hundreds of spawns from parallel tasks all end and are all reaped once.
    @Test func manyConcurrentSpawnsWithManyOpenDescriptorsAllEnd() async throws {
        let held = (0..<300).map { _ in open("/dev/null", O_RDONLY) }
        defer { held.forEach { close($0) } }
        let codes = try await withThrowingTaskGroup(of: Int32.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let child = try SpawnedProcess.spawn("/bin/sh", ["-c", "exit \(index % 7)"])
                    return await child.terminated().status
                }
            }
            return try await group.reduce(into: [Int32]()) { $0.append($1) }
        }
        #expect(codes.sorted() == (0..<200).map { Int32($0 % 7) }.sorted())
    }
}
