import AsyncHTTPClient
import Foundation
import Sandbox
import Testing
import TestSupport

/// The agents' status page in a real headless browser (Debian's Chromium): the DOM it built
/// and the pixels it drew, after a switchover, so the timeline has a commit to show.
extension SandboxProcessTests {
    @Test func theStatusPageRendersInChromiumWithTheActiveSiteAndTheTimeline() async throws {
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "chromium is missing: run script/bootstrap")
        try await withTemporaryDirectory(prefix: "sandbox-page") { directory in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let layout = LabLayout(directory: directory.appendingPathComponent("lab"), agentPorts: try LabLayout.freeAgentPorts(), timings: LabTimings())
            let lab: Lab
            do {
                lab = try await Lab.start(layout: layout, executable: try SandboxProcess.executable().path, http: LabHTTP(client: http)) { _ in }
            } catch {
                try? await http.shutdown()
                throw error
            }
            do {
                let before = ContinuousClock.now
                try await lab.switchover(to: "dc-b", via: "dc-a")
                try await lab.waitUntilServing("dc-b", within: .seconds(60))
                #expect(ContinuousClock.now - before < .seconds(60))
                let page = lab.layout.agentURL("witness") + "/"

                let unauthorized = await LabHTTP(client: http).get(lab.layout.agentURL("witness") + "/v1/status")
                #expect(unauthorized?.status == 401, "the operator API still needs the token; only the page is public here")

                let dom = try await run(chromium, Self.flags(directory) + ["--dump-dom", page])
                #expect(dom.contains(#"<strong id="active-site">dc-b</strong>"#), "\(dom.prefix(3000))")
                #expect(dom.contains(#"<span id="epoch">1</span>"#))
                #expect(dom.contains(#"id="timeline""#) && dom.contains("epoch 1"), "the timeline shows the commit of epoch 1")
                #expect(dom.contains(#"<section id="flows"><h2>Flows</h2><p>—</p>"#), "fields the agents do not report yet show —")

                let screenshot = directory.appendingPathComponent("page.png")
                _ = try await run(chromium, Self.flags(directory) + ["--window-size=1000,800", "--screenshot=\(screenshot.path)", page])
                let ink = try await run("/usr/bin/env", ["python3", Self.script("png_ink.py"), screenshot.path])
                let fields = ink.split(separator: " ")
                let whole = Double(fields.count == 4 ? fields[1] : "") ?? 0
                let top = Double(fields.count == 4 ? fields[3].trimmingCharacters(in: .whitespacesAndNewlines) : "") ?? 0
                #expect(whole > 0.01, "the page is drawn, not blank: \(ink)")
                #expect(top > 0.01, "the heading and the active site are at the top: \(ink)")
            } catch {
                await lab.stop()
                try? await http.shutdown()
                throw error
            }
            await lab.stop()
            try await http.shutdown()
        }
    }

    static func flags(_ directory: URL) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(directory.appendingPathComponent("chromium").path)"]
    }

    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs a program to its end (at most 60 s); its standard output.
    func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reading = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
        try await eventually(within: .seconds(60), "\(executable) finishes") { !process.isRunning }
        let data = await reading.value
        guard process.terminationStatus == 0 else {
            throw SandboxTestFailure("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
