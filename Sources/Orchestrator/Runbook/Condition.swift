/// The small condition language of `when:`, `assert` and `wait` — deliberately tiny, so a
/// runbook's logic can be read at a glance and validated completely at load.
///
/// ```
/// expression := or
/// or         := and ("or" and)*
/// and        := not ("and" not)*
/// not        := "not" not | comparison
/// comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand)?
/// operand    := 'text' | "text" | number | true | false | reference | "(" expression ")"
/// reference  := params.NAME | steps.ID.KEY | steps.ID.status | result.KEY
/// ```
/// Values are strings; `<`, `<=`, `>`, `>=` need both sides to be numbers, `==`/`!=` compare as
/// numbers when both sides are, as text otherwise. A lone operand must be `true` or `false`.
/// There are no functions, no assignment and no loops.
public indirect enum Condition: Sendable, Hashable, CustomStringConvertible {
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    case literal(String)
    case reference(Reference)
    case not(Condition)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case compare(Condition, Comparison, Condition)

    /// A name an expression reads.
    public enum Reference: Sendable, Hashable, CustomStringConvertible {
        /// A runbook parameter.
        case parameter(String)
        /// An output of an earlier step (`status` is the step's state: succeeded, failed, skipped).
        case output(step: String, key: String)
        /// An output of what a `wait` polls.
        case result(String)

        public var description: String {
            switch self {
            case .parameter(let name): "params.\(name)"
            case .output(let step, let key): "steps.\(step).\(key)"
            case .result(let key): "result.\(key)"
            }
        }
    }

    public var description: String {
        switch self {
        case .literal(let text): "'\(text)'"
        case .reference(let reference): reference.description
        case .not(let inner): "not \(inner)"
        case .and(let left, let right): "(\(left) and \(right))"
        case .or(let left, let right): "(\(left) or \(right))"
        case .compare(let left, let comparison, let right): "\(left) \(comparison.rawValue) \(right)"
        }
    }

    /// Every reference in the expression, for load-time validation.
    public var references: [Reference] {
        switch self {
        case .literal: []
        case .reference(let reference): [reference]
        case .not(let inner): inner.references
        case .and(let left, let right), .or(let left, let right), .compare(let left, _, let right):
            left.references + right.references
        }
    }

    /// Parses `text`.
    /// - Throws: ``ConditionError`` naming the position and what was expected.
    public init(parsing text: String) throws(ConditionError) {
        var parser = ConditionParser(text)
        self = try parser.parseAll()
    }

    /// Evaluates to true or false.
    /// - Parameter lookup: the value of a reference, `nil` when it has none (yet).
    /// - Throws: ``ConditionError`` for a missing value, a non-number in `<`, or a lone operand
    ///   that is not a boolean.
    public func evaluate(_ lookup: (Reference) -> String?) throws(ConditionError) -> Bool {
        switch self {
        case .literal, .reference:
            let value = try self.value(lookup)
            switch value {
            case "true": return true
            case "false": return false
            default: throw ConditionError("'\(self)' is '\(value)', not true or false; compare it, e.g. \(self) == 'x'")
            }
        case .not(let inner): return try !inner.evaluate(lookup)
        case .and(let left, let right):
            guard try left.evaluate(lookup) else { return false }
            return try right.evaluate(lookup)
        case .or(let left, let right):
            if try left.evaluate(lookup) { return true }
            return try right.evaluate(lookup)
        case .compare(let left, let comparison, let right):
            let lhs = try left.value(lookup)
            let rhs = try right.value(lookup)
            let numbers = Double(lhs).flatMap { l in Double(rhs).map { (l, $0) } }
            switch comparison {
            case .equal: return numbers.map { $0.0 == $0.1 } ?? (lhs == rhs)
            case .notEqual: return numbers.map { $0.0 != $0.1 } ?? (lhs != rhs)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                guard let (l, r) = numbers else {
                    throw ConditionError("'\(self)' compares '\(lhs)' and '\(rhs)' with \(comparison.rawValue), which needs two numbers")
                }
                switch comparison {
                case .less: return l < r
                case .lessOrEqual: return l <= r
                case .greater: return l > r
                default: return l >= r
                }
            }
        }
    }

    private func value(_ lookup: (Reference) -> String?) throws(ConditionError) -> String {
        switch self {
        case .literal(let text): return text
        case .reference(let reference):
            guard let value = lookup(reference) else {
                throw ConditionError("\(reference) has no value (the step did not run or did not output that key)")
            }
            return value
        default: return try evaluate(lookup) ? "true" : "false"
        }
    }
}

/// An expression that does not parse or cannot be evaluated.
public struct ConditionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
