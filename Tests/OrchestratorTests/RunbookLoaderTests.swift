import Foundation
import Orchestrator
import Testing

@Suite("Runbook loader")
struct RunbookLoaderTests {
    @Test("every shipped runbook loads against the full registry of action names, documented at its top")
    func shippedRunbooksLoad() throws {
        let runbooks = try fullLoader().loadDirectory(shippedRunbooks)
        #expect(runbooks.map(\.name) == ["dr-drill", "failback", "planned-switchover", "reconcile", "unplanned-failover"])
        for runbook in runbooks {
            #expect(runbook.source.hasPrefix("# \(runbook.name) — "), "\(runbook.name) starts with its documentation")
            #expect(!runbook.description.isEmpty)
            let known = Set(StepActionNames.dataPlane + StepActionNames.generic)
            for step in runbook.steps + runbook.compensations { #expect(known.contains(step.action)) }
        }
    }

    @Test("a runbook naming an action the registry lacks is refused, so the shipped-runbooks test fails on a typo")
    func unknownActionInShippedSetFails() {
        let loader = RunbookLoader(actions: ["probe": nil])
        #expect(throws: RunbookError.self) { try loader.loadDirectory(shippedRunbooks) }
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var label: String
        var yaml: String
        var keyPath: String
        var line: Int?
        var fix: String
        var testDescription: String { label }
    }

    static let header = "name: bad\ndescription: a test\n"
    static let malformed: [Malformed] = [
        .init(label: "unknown top-level key", yaml: header + "stesp: []\n", keyPath: "stesp", line: 3, fix: "allowed keys here"),
        .init(label: "unknown action", yaml: header + "steps:\n  - id: a\n    action: fence-sites\n", keyPath: "steps[0].action", line: 5, fix: "did you mean 'fence-site'?"),
        .init(label: "unknown step key", yaml: header + "steps:\n  - id: a\n    action: sleep\n    timout: 5s\n", keyPath: "steps[0].timout", line: 6, fix: "did you mean 'timeout'?"),
        .init(label: "missing required parameter", yaml: header + "steps:\n  - id: a\n    action: sleep\n", keyPath: "steps[0].params.duration", line: 4, fix: "add params: { duration: ... }"),
        .init(label: "parameter the action does not take", yaml: header + "steps:\n  - id: a\n    action: sleep\n    params: { duration: 1s, durations: 2s }\n", keyPath: "steps[0].params.durations", line: 6, fix: "did you mean 'duration'?"),
        .init(label: "bad timeout", yaml: header + "steps:\n  - id: a\n    action: probe\n    timeout: soon\n", keyPath: "steps[0].timeout", line: 6, fix: "for example 250ms"),
        .init(label: "when reads a later step", yaml: header + "steps:\n  - id: a\n    action: probe\n    when: steps.b.healthy == true\n  - id: b\n    action: probe\n", keyPath: "steps[0].when", line: 6, fix: "only the steps before it"),
        .init(label: "when does not parse", yaml: header + "steps:\n  - id: a\n    action: probe\n    when: params.x ==\n", keyPath: "steps[0].when", line: 6, fix: "write a condition"),
        .init(label: "template reads an undeclared parameter", yaml: header + "steps:\n  - id: a\n    action: probe\n    params: { site: \"${params.site}\" }\n", keyPath: "steps[0].params.site", line: 6, fix: "declare it under parameters"),
        .init(label: "on_failure names no compensation", yaml: header + "steps:\n  - id: a\n    action: probe\n    on_failure: undo\n", keyPath: "steps[0].on_failure", line: 6, fix: "abort, continue or the id of a step under compensations"),
        .init(label: "retries not a number", yaml: header + "steps:\n  - id: a\n    action: probe\n    retries: many\n", keyPath: "steps[0].retries", line: 6, fix: "a whole number from 0 to 100"),
        .init(label: "duplicate step id", yaml: header + "steps:\n  - id: a\n    action: probe\n  - id: a\n    action: probe\n", keyPath: "steps[1].id", line: 6, fix: "give every step its own id"),
        .init(label: "name differs from the file", yaml: "name: other\ndescription: x\nsteps:\n  - id: a\n    action: probe\n", keyPath: "name", line: 1, fix: "set name: bad"),
        .init(label: "no description", yaml: "name: bad\nsteps:\n  - id: a\n    action: probe\n", keyPath: "description", line: 1, fix: "add it"),
        .init(label: "not YAML", yaml: header + "steps: [\n", keyPath: "", line: nil, fix: "fix the YAML syntax"),
        .init(label: "assert condition does not parse", yaml: header + "steps:\n  - id: a\n    action: assert\n    params: { that: \"steps.a.x === 1\" }\n", keyPath: "steps[0].params.that", line: 6, fix: "condition language"),
    ]

    @Test("a malformed runbook is refused with the file, the key path, the line and the fix", arguments: malformed)
    func malformedRefused(_ example: Malformed) throws {
        do {
            let runbook = try fullLoader().load(text: example.yaml, file: "Runbooks/bad.yaml", expectedName: "bad")
            Issue.record("loaded \(runbook.name) although it is malformed")
        } catch {
            #expect(error.code == .malformed)
            let location = try #require(error.location)
            #expect(location.keyPath == example.keyPath)
            #expect(location.line == example.line)
            #expect(location.fix.contains(example.fix), "fix was: \(location.fix)")
            #expect(error.message.hasPrefix("Runbooks/bad.yaml: "))
        }
    }

    @Test("parameters: defaults apply, a missing required one and an unknown one are refused by name")
    func parameters() throws {
        let runbook = try fullLoader().load(path: shippedRunbooks + "/planned-switchover.yaml")
        #expect(try runbook.resolve(["from": "dc-a", "to": "dc-b"])["drain_timeout"] == "5m")
        #expect(throws: RunbookError.self) { try runbook.resolve(["from": "dc-a"]) }
        do {
            _ = try runbook.resolve(["from": "dc-a", "to": "dc-b", "form": "x"])
        } catch {
            #expect(error.message.contains("'form'"))
        }
    }
}

@Suite("Runbook conditions")
struct ConditionTests {
    @Test("comparisons are numeric when both sides are numbers, text otherwise; and/or/not and parentheses")
    func evaluation() throws {
        let values: [Condition.Reference: String] = [.output(step: "lag", key: "records"): "0", .parameter("to"): "dc-b", .output(step: "p", key: "healthy"): "true"]
        func check(_ text: String) throws -> Bool { try Condition(parsing: text).evaluate { values[$0] } }
        #expect(try check("steps.lag.records == 0.0"))
        #expect(try check("steps.lag.records < 10 and params.to == 'dc-b'"))
        #expect(try !check("not (steps.p.healthy or params.to != \"dc-b\")"))
        #expect(try check("steps.p.healthy"))
        #expect(throws: ConditionError.self) { try check("params.to > 3") }
        #expect(throws: ConditionError.self) { try check("params.to") }
        #expect(throws: ConditionError.self) { try check("steps.missing.key == 1") }
    }

    @Test("malformed conditions are refused with the position", arguments: ["", "a == 1", "params.x = 1", "(params.x == 1", "params.x == 'open", "params.x == 1 params.y", "steps.a == 1", "params.x ; rm"])
    func malformed(_ text: String) {
        #expect(throws: ConditionError.self) { try Condition(parsing: text) }
    }
}
