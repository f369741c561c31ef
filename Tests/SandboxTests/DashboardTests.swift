import Foundation
import Testing
import TestSupport

/// The interactive dashboard in a real pseudo-terminal (Python's `pty`): keys in, screen read
/// back. In the process suite, which is serialized: two labs at once would share two cores.
extension SandboxProcessTests {
    @Test func failingDcAFromTheKeyboardShowsTheFaultThenDcBActiveAndQQuitsCleanly() async throws {
        try await withTemporaryDirectory(prefix: "sandbox-pty") { directory in
            let run = directory.appendingPathComponent("run", isDirectory: true)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("drive_dashboard.py")
            let output = directory.appendingPathComponent("driver.out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let driver = Process()
            driver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            driver.arguments = ["python3", script.path, try SandboxProcess.executable().path, run.path]
            driver.standardOutput = try FileHandle(forWritingTo: output)
            driver.standardError = driver.standardOutput
            try driver.run()
            try await eventually(within: .seconds(220), "the driver finishes") { !driver.isRunning }
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            #expect(driver.terminationStatus == 0, "\(text.suffix(3000))")
            #expect(text.contains("exit 0"), "\(text.suffix(3000))")
            #expect(processesMentioning(run.path).isEmpty)
        }
    }
}
