/// `wait`: polls an HTTP address or a program until a condition over what it answers holds,
/// within the step's timeout (e.g. wait until a service's health check says ready).
///
/// Each poll produces `result.status`/`result.body` (http) or `result.exit_status`/
/// `result.output` (exec), and `result.ok`; the condition (`until`, default `result.ok == true`)
/// reads them. Polling is read-only, so it is idempotent.
public struct WaitAction: StepAction {
    public let name = "wait"
    private let http: HTTPAction

    public init(http: HTTPAction = HTTPAction()) { self.http = http }

    public var parameterSpecs: [StepParameterSpec]? {
        [
            .init("url", "poll this address with GET (or give command)"),
            .init("command", "poll by running this program (or give url)"),
            .init("args", "the program's arguments"),
            .init("expect_status", "for url: the status that sets result.ok"),
            .init("until", expression: true, "the condition, default result.ok == true"),
            .init("interval", "between polls, default 1s"),
        ]
    }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        let condition = try Self.condition(context)
        let outputs = try await poll(context)
        let holds = (try? condition.evaluate { AssertAction.lookup($0, context, result: outputs) }) ?? false
        return StepPlan(
            summary: "poll \(context.parameters["url"] ?? context.parameters["command"] ?? "") until \(condition)",
            checks: [.init("\(condition)", satisfied: true, detail: holds ? "holds now" : "does not hold yet (the step would wait)")])
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let condition = try Self.condition(context)
        let interval = try context.parameters.duration("interval", default: .seconds(1))
        var polls = 0
        while true {
            try Task.checkCancellation()
            polls += 1
            let outputs = (try? await poll(context)) ?? ["ok": "false"]
            do throws(ConditionError) {
                if try condition.evaluate({ AssertAction.lookup($0, context, result: outputs) }) {
                    return StepOutcome(summary: "\(condition) held after \(polls) poll(s)", outputs: outputs.merging(["polls": String(polls)]) { $1 })
                }
            } catch {
                throw StepActionError(.invalidParameter, "parameter 'until': \(error.message)", retriable: false)
            }
            try await context.clock.sleep(for: interval)
        }
    }

    private func poll(_ context: StepContext) async throws -> [String: String] {
        if context.parameters["url"] != nil { return try await http.perform(context) }
        guard let command = context.parameters["command"] else {
            throw StepActionError.parameter("url", "or 'command' is required: wait needs something to poll")
        }
        let expected = try context.parameters.int("expect_exit", default: 0)
        let result = try await ExecAction.execute(command, context.parameters.list("args"))
        return ["exit_status": String(result.status), "output": result.output, "ok": String(result.status == expected)]
    }

    static func condition(_ context: StepContext) throws(StepActionError) -> Condition {
        let text = context.parameters.string("until", default: "result.ok == true")
        do throws(ConditionError) {
            return try Condition(parsing: text)
        } catch {
            throw .parameter("until", "is not a condition: \(error.message)")
        }
    }
}
