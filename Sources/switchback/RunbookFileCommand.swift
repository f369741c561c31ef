import AgentServer
import ArgumentParser
import Foundation
import Orchestrator

extension RunbookCommand {
    /// `switchback runbook run-file PATH`: runs a runbook file in this process, without an agent,
    /// with the generic actions only (notify prints, http, exec, confirm, assert, sleep, wait,
    /// report) — to rehearse a runbook's own logic, or to script site-local procedures. The
    /// journal lives in --data-dir, so a run killed in the middle resumes when the same command
    /// is given again (with no step that ended done twice).
    struct RunFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-file",
            abstract: "Run a runbook file here, without an agent, with the generic actions only.")

        @Argument(help: "The runbook file (NAME.yaml).") var path: String
        @Option(help: "Directory for the run's journal (an interrupted run there is resumed first).") var dataDir: String
        @Option(name: .customLong("param"), help: "A parameter, key=value (repeatable).") var parameters: [String] = []
        @Flag(help: "Print the plan; change nothing.") var dryRun = false
        @Flag(help: "Answer confirmations with yes (otherwise they are asked on the terminal).") var yes = false

        func run() async throws {
            let sink: RunbookNoticeSink = { notice in
                FileHandle.standardError.write(Data("[\(notice.severity.rawValue)] \(notice.message)\n".utf8))
            }
            let registry = StepActionRegistry.generic(sink: sink)
            let directory = (path as NSString).deletingLastPathComponent
            let runner = RunbookRunner(
                runbooksDirectory: directory.isEmpty ? "." : directory, dataDirectory: dataDir, registry: registry,
                currentEpoch: { .initial }, sink: sink)
            do {
                let runbook = try RunbookLoader(registry: registry).load(path: path)
                if dryRun {
                    print(RunbookText.plan(try await runner.plan(runbook, parameters: try RunbookParameters.parse(parameters))))
                    return
                }
                if let resumed = try await runner.resumeInterrupted() {
                    print("resuming run \(resumed.runID) of \(resumed.runbook) at step \(resumed.currentStep ?? "-")")
                } else {
                    _ = try await runner.start(runbook, parameters: try RunbookParameters.parse(parameters), assumeYes: yes, by: RunbookParameters.caller)
                }
            } catch let error as RunbookError {
                FileHandle.standardError.write(Data("switchback: \(error)\n".utf8))
                throw ExitCode(2)
            }
            let status = try await follow(runner)
            print(RunbookText.status(status))
            if status?.result?.status != .succeeded { throw ExitCode(1) }
        }

        /// Waits for the run to end, asking its questions on the terminal.
        private func follow(_ runner: RunbookRunner) async throws -> RunStatus? {
            while true {
                let status = await runner.status()
                guard let status, status.state != .finished, status.state != .stalled else { return status }
                if let question = status.question {
                    let answers = question.answers.map(\.rawValue).joined(separator: "/")
                    FileHandle.standardError.write(Data("\(question.prompt) [\(answers)]: ".utf8))
                    let line = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? "no"
                    guard let answer = ConfirmationAnswer(rawValue: line) else { continue }
                    try await runner.answer(step: question.step, answer, by: RunbookParameters.caller + " (terminal)")
                    // The run records the answer on its own task: wait for that, or this loop
                    // would see the same question again and ask it twice.
                    _ = await runner.waitForChange(from: status)
                    continue
                }
                _ = await runner.waitForChange(from: status)
            }
        }
    }
}
