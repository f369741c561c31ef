import Foundation
import SwitchbackConfiguration
import Yams

/// Reads runbook files and refuses malformed ones at load, naming the file, the key path, the
/// line and the fix — including a step that names an action the agent does not have, a
/// parameter the action does not take, and a condition that does not parse or reads a step
/// that has not run yet.
public struct RunbookLoader: Sendable {
    /// The actions a runbook may name and the parameters each accepts (`nil`: any).
    public let actions: [String: [StepParameterSpec]?]

    public init(actions: [String: [StepParameterSpec]?]) { self.actions = actions }

    public init(registry: StepActionRegistry) {
        var actions: [String: [StepParameterSpec]?] = [:]
        for name in registry.names { actions[name] = registry.action(named: name)?.parameterSpecs }
        self.actions = actions
    }

    static let topKeys = ["name", "description", "parameters", "steps", "compensations"]
    static let stepKeys = ["id", "action", "params", "timeout", "retries", "backoff", "when", "on_failure", "confirm", "idempotent"]
    static let stepExample = "- id: fence\n    action: fence-site\n    params: { site: \"${params.from}\" }"

    /// Every `*.yaml` runbook in `directory`, sorted by name.
    public func loadDirectory(_ directory: String) throws(RunbookError) -> [Runbook] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw RunbookError(.notFound, "cannot list the runbook directory \(directory): \(error.localizedDescription); check the agent's runbooks setting")
        }
        var runbooks: [Runbook] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            runbooks.append(try load(path: directory + "/" + name))
        }
        return runbooks
    }

    public func load(path: String) throws(RunbookError) -> Runbook {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RunbookError(.notFound, "cannot read the runbook \(path): \(error.localizedDescription)")
        }
        let base = (path as NSString).lastPathComponent
        let stem = base.hasSuffix(".yaml") ? String(base.dropLast(5)) : base.hasSuffix(".yml") ? String(base.dropLast(4)) : base
        return try load(text: text, file: path, expectedName: stem)
    }

    /// Parses and validates one runbook's text.
    /// - Parameters:
    ///   - file: named in errors.
    ///   - expectedName: the file's name without `.yaml`: `name:` must match it, so
    ///     `switchback runbook run NAME` finds the file it means.
    public func load(text: String, file: String, expectedName: String? = nil) throws(RunbookError) -> Runbook {
        do throws(ConfigurationError) {
            return try parse(text: text, expectedName: expectedName)
        } catch {
            throw .malformed(file, error)
        }
    }

    private func parse(text: String, expectedName: String?) throws(ConfigurationError) -> Runbook {
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw ConfigurationError(.unreadable, keyPath: "", problem: "the file is empty", fix: "start from Runbooks/reconcile.yaml")
            }
            root = composed
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(.unreadable, keyPath: "", problem: "not valid YAML: \(error)", fix: "fix the YAML syntax at the position shown")
        }
        let top = try YAMLValue(node: root, path: "").mapping(allowed: Self.topKeys, example: "name: ..., description: ..., steps: [...]")
        let nameValue = try top.required("name", example: "planned-switchover")
        let name = try nameValue.string(example: "planned-switchover")
        guard Self.isIdentifier(name) else {
            throw nameValue.error(.invalidValue, "\"\(name)\" is not a runbook name", fix: "use lowercase letters, digits and '-'")
        }
        if let expectedName, name != expectedName {
            throw nameValue.error(.invalidValue, "\"\(name)\" differs from the file's name \"\(expectedName)\"", fix: "rename the file or set name: \(expectedName)")
        }
        let description = try top.required("description", example: "| what this runbook does and when to run it")
            .string(example: "| what this runbook does and when to run it")
        var parameters: [Runbook.Parameter] = []
        if let section = top["parameters"] {
            for (key, value) in try section.mapping(allowed: nil, example: "to: { description: the site to promote }").entries {
                parameters.append(try parameter(key, value))
            }
        }
        let declared = Set(parameters.map(\.name))

        let compensationNodes = try top["compensations"]?.list(example: Self.stepExample) ?? []
        let compensationIDs = try compensationNodes.map { node throws(ConfigurationError) in
            try node.mapping(allowed: Self.stepKeys, example: Self.stepExample).required("id", example: "undo-fence").string(example: "undo-fence")
        }
        let stepsValue = try top.required("steps", example: Self.stepExample)
        let stepNodes = try stepsValue.list(example: Self.stepExample)
        guard !stepNodes.isEmpty else { throw stepsValue.error(.invalidValue, "has no steps", fix: "add at least one step") }

        var steps: [Step] = []
        var seen: Set<String> = []
        for node in stepNodes {
            let step = try self.step(node, parameters: declared, earlier: seen, compensations: compensationIDs)
            seen.insert(step.id)
            steps.append(step)
        }
        var compensations: [Step] = []
        for node in compensationNodes {
            let step = try self.step(node, parameters: declared, earlier: seen, compensations: [])
            if case .compensate = step.onFailure {
                throw node.error(.invalidValue, "a compensation cannot compensate in turn", fix: "use on_failure: abort or continue")
            }
            seen.insert(step.id)
            compensations.append(step)
        }
        return Runbook(name: name, description: description, parameters: parameters, steps: steps, compensations: compensations, source: text)
    }

    private func parameter(_ name: String, _ value: YAMLValue) throws(ConfigurationError) -> Runbook.Parameter {
        guard Self.isIdentifier(name) else {
            throw value.error(.invalidValue, "\"\(name)\" is not a parameter name", fix: "use lowercase letters, digits, '-' and '_'")
        }
        let entry = try value.mapping(allowed: ["default", "description"], example: "{ default: dc-b, description: the site to promote }")
        return Runbook.Parameter(
            name: name, defaultValue: try entry["default"].map { v throws(ConfigurationError) in try scalarOrList(v) },
            description: try entry["description"]?.string(example: "the site to promote") ?? "")
    }

    private func step(_ node: YAMLValue, parameters: Set<String>, earlier: Set<String>, compensations: [String]) throws(ConfigurationError) -> Step {
        let entry = try node.mapping(allowed: Self.stepKeys, example: Self.stepExample)
        let idValue = try entry.required("id", example: "fence-old-site")
        let id = try idValue.string(example: "fence-old-site")
        guard Self.isIdentifier(id) else {
            throw idValue.error(.invalidValue, "\"\(id)\" is not a step id", fix: "use lowercase letters, digits, '-' and '_'")
        }
        guard !earlier.contains(id) else { throw idValue.error(.invalidValue, "step id \"\(id)\" is used twice", fix: "give every step its own id") }
        let actionValue = try entry.required("action", example: "fence-site")
        let action = try actionValue.string(example: "fence-site")
        guard let specs = actions[action] else {
            let names = actions.keys.sorted()
            let hint = KeySuggestion.closest(to: action, among: names).map { "did you mean '\($0)'? " } ?? ""
            throw actionValue.error(.invalidValue, "unknown action \"\(action)\"", fix: "\(hint)known actions: \(names.joined(separator: ", "))")
        }
        let checkReferences = { (references: [Condition.Reference], value: YAMLValue, allowResult: Bool) throws(ConfigurationError) in
            for reference in references {
                switch reference {
                case .parameter(let name) where !parameters.contains(name):
                    throw value.error(.invalidValue, "reads params.\(name), which the runbook does not declare",
                        fix: "declare it under parameters: or use one of: \(parameters.sorted().joined(separator: ", "))")
                case .output(let step, _) where !earlier.contains(step):
                    throw value.error(.invalidValue, "reads steps.\(step), which is not an earlier step",
                        fix: "a step can read only the steps before it: \(earlier.sorted().joined(separator: ", "))")
                case .result where !allowResult:
                    throw value.error(.invalidValue, "reads \(reference), which only a wait condition has", fix: "read params.NAME or steps.STEP.KEY")
                default: break
                }
            }
        }
        var values: [String: String] = [:]
        if let section = entry["params"] {
            let allowed = specs?.map(\.key)
            let mapping = try section.mapping(allowed: allowed, example: "{ site: \"${params.from}\" }")
            for (key, value) in mapping.entries where !value.isNull {
                let text = try scalarOrList(value)
                let isExpression = specs?.first(where: { $0.key == key })?.isExpression == true
                let references: [Condition.Reference]
                do throws(ConditionError) {
                    references = isExpression ? try Condition(parsing: text).references : try StepTemplate(parsing: text).references
                } catch {
                    throw value.error(
                        .invalidValue, error.message,
                        fix: isExpression ? "see the condition language in Runbooks/README.md" : "write ${params.NAME} or ${steps.STEP.KEY}")
                }
                try checkReferences(references, value, isExpression)
                values[key] = text
            }
        }
        for spec in specs ?? [] where spec.required && values[spec.key] == nil {
            throw ConfigurationError(
                .missingKey, keyPath: "\(node.path).params.\(spec.key)", problem: "action \(action) needs it (\(spec.summary))",
                fix: "add params: { \(spec.key): ... }", line: node.line)
        }
        var when: Condition?
        if let value = entry["when"] {
            let text = try value.string(example: "steps.probe.healthy == false")
            do throws(ConditionError) {
                when = try Condition(parsing: text)
            } catch {
                throw value.error(.invalidValue, error.message, fix: "write a condition such as steps.probe.healthy == false")
            }
            try checkReferences(when?.references ?? [], value, false)
        }
        let retries: Int
        if let value = entry["retries"] {
            let text = try value.string(example: "3")
            guard let count = Int(text), (0...100).contains(count) else {
                throw value.error(.invalidValue, "\"\(text)\" is not a retry count", fix: "write a whole number from 0 to 100")
            }
            retries = count
        } else {
            retries = 0
        }
        var onFailure = Step.FailurePolicy.abort
        if let value = entry["on_failure"] {
            let text = try value.string(example: "abort")
            switch text {
            case "abort": onFailure = .abort
            case "continue": onFailure = .continue
            case let name where compensations.contains(name): onFailure = .compensate(name)
            default:
                throw value.error(.invalidValue, "\"\(text)\" is neither abort, continue nor a compensation",
                    fix: "write abort, continue or the id of a step under compensations: (\(compensations.isEmpty ? "none declared" : compensations.joined(separator: ", ")))")
            }
        }
        let confirm = try entry["confirm"]?.bool() ?? false
        var step = Step(
            id: id, action: action, parameters: values, timeout: try entry["timeout"]?.positiveDuration(), retries: retries,
            backoff: try entry["backoff"]?.positiveDuration() ?? .seconds(1), when: when, onFailure: onFailure,
            confirm: confirm || action == ConfirmAction.actionName, idempotent: try entry["idempotent"]?.bool(), line: node.line)
        step.expressionKeys = Set((specs ?? []).filter(\.isExpression).map(\.key)).intersection(values.keys)
        return step
    }

    /// A scalar, or a list of scalars joined with commas (what ``StepParameters/list(_:)`` reads).
    private func scalarOrList(_ value: YAMLValue) throws(ConfigurationError) -> String {
        if value.isScalar { return try value.string(example: "a value") }
        let items = try value.stringList(example: "a value or a list of values")
        if let bad = items.first(where: { $0.contains(",") }) {
            throw value.error(.invalidValue, "list item \"\(bad)\" contains a comma", fix: "list items cannot contain commas")
        }
        return items.joined(separator: ",")
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.first?.isLetter == true
            && text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "_" }
    }
}
