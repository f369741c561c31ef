/// A step parameter value with `${params.NAME}` and `${steps.ID.KEY}` references, substituted
/// just before the step runs (so a later step can use what an earlier one found).
public struct StepTemplate: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case reference(Condition.Reference)
    }

    let parts: [Part]

    /// Parses `text`.
    /// - Throws: ``ConditionError`` for an unclosed `${` or a reference of the wrong form.
    public init(parsing text: String) throws(ConditionError) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw ConditionError("'\(text)': '${' is never closed with '}'")
            }
            let name = rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces)
            guard case .reference(let reference) = try Condition(parsing: name) else {
                throw ConditionError("'\(text)': ${\(name)} is not a reference; write ${params.NAME} or ${steps.STEP.KEY}")
            }
            parts.append(.reference(reference))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    public var references: [Condition.Reference] {
        parts.compactMap { if case .reference(let reference) = $0 { reference } else { nil } }
    }

    /// The value with every reference replaced.
    /// - Throws: ``ConditionError`` naming a reference that has no value.
    public func render(_ lookup: (Condition.Reference) -> String?) throws(ConditionError) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .reference(let reference):
                guard let value = lookup(reference) else {
                    throw ConditionError("${\(reference)} has no value (the step did not run or did not output that key)")
                }
                result += value
            }
        }
        return result
    }
}

import Foundation
