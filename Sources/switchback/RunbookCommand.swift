import AgentServer
import ArgumentParser
import Foundation
import Orchestrator

/// `switchback runbook …`: list, show, run, status and confirm runbooks on an agent.
struct RunbookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "List, show, run (or dry-run) and follow the agent's runbooks.",
        subcommands: [List.self, Show.self, Run.self, Status.self, Confirm.self, RunFile.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The agent's runbooks.")
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            try await options.perform({ try await $0.runbooks() }) { RunbookText.list(try $0.decode([RunbookSummary].self)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A runbook's description, parameters and steps.")
        @Argument(help: "The runbook's name.") var name: String
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            try await options.perform({ try await $0.runbook(name) }) { RunbookText.show(try $0.decode(RunbookDetail.self)) }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a runbook on the agent (one run at a time), following it until it ends.",
            discussion: "--dry-run prints the plan with every precondition evaluated and changes nothing. Steps marked confirm wait for --yes or `switchback runbook confirm`.")
        @Argument(help: "The runbook's name.") var name: String
        @Option(name: .customLong("param"), help: "A parameter, key=value (repeatable).") var parameters: [String] = []
        @Flag(help: "Print the plan; change nothing.") var dryRun = false
        @Flag(help: "Answer the runbook's confirmations with yes.") var yes = false
        @Flag(help: "Start the run and return instead of following it.") var detach = false
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            let request = RunbookRunRequest(params: try RunbookParameters.parse(parameters), dryRun: dryRun, yes: yes, by: RunbookParameters.caller)
            try await RunbookFollow.run(options, name: name, request: request, detach: detach)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The run in progress (or the last one): each step's state.")
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            try await options.perform({ try await $0.runbookStatus() }) { RunbookText.status(try $0.decode(RunbookStatusReply.self).run) }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer the question the run waits on.")
        @Option(help: "The step asked about (default: whichever waits).") var step: String?
        @Option(help: "yes, no, or skip (skip only after the agent stopped inside the step).") var answer: ConfirmationAnswer = .yes
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            let request = RunbookConfirmRequest(step: step, answer: answer.rawValue, by: RunbookParameters.caller)
            try await options.perform({ try await $0.confirmRunbook(request) }) { RunbookText.status(try $0.decode(RunbookStatusReply.self).run) }
        }
    }
}

extension ConfirmationAnswer: ExpressibleByArgument {}

/// `--param key=value` options.
enum RunbookParameters {
    static func parse(_ options: [String]) throws -> [String: String] {
        var parameters: [String: String] = [:]
        for option in options {
            guard let equals = option.firstIndex(of: "="), equals != option.startIndex else {
                throw ValidationError("--param \(option): write key=value, e.g. --param to=dc-b")
            }
            let key = String(option[..<equals])
            guard parameters[key] == nil else { throw ValidationError("--param \(key) is given twice") }
            parameters[key] = String(option[option.index(after: equals)...])
        }
        return parameters
    }

    /// Who runs the command, for the audit log.
    static var caller: String { "\(ProcessInfo.processInfo.environment["USER"] ?? "operator") via switchback runbook" }
}
